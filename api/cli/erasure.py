"""``ladder erase PERSON_ID --reason CODE``, ``ladder reseal --to URL``, ``ladder master-key``.

``erase`` records a ``PersonalDataErased`` (as HR would with ``erasePersonalData``),
destroys the person's data key and rebuilds the read models (``events.erasure``).
Erasing someone already erased writes nothing and exits 6 (PERSONAL_DATA_ALREADY_ERASED);
an unknown person exits 3.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.errors import Exit, fail, out, run
from api.cli.support import DatabaseUrl, database_url
from domain.erasure_reasons import ERASURE_REASONS

if TYPE_CHECKING:
    from domain import commands as c
    from events.reseal import ResealReport


def erase_command(
    person_id: Annotated[str, typer.Argument(help="The person's UUID.")],
    reason: Annotated[
        str, typer.Option("--reason", help="One of: " + ", ".join(ERASURE_REASONS) + ".")
    ],
    reference: Annotated[
        str | None, typer.Option("--reference", help="A ticket id (no names).")
    ] = None,
    url: DatabaseUrl = None,
    actor: Annotated[str, typer.Option("--actor", help="Recorded as who erased.")] = "cli",
) -> None:
    """Erase a person's personal data for good: name, email, free text (GDPR art. 17)."""
    from domain import commands as c

    try:
        pid = uuid.UUID(person_id.strip())
    except ValueError:
        fail(f"{person_id!r} is not a UUID", Exit.BAD_INPUT)
    command = c.ErasePersonalData(person_id=pid, reason=reason.strip(), reference=reference)
    position = run(_erase(database_url(url), command, actor))
    out.print(f"erased the personal data of {pid} (position {position})", markup=False)


async def _erase(url: str, command: c.ErasePersonalData, actor: str) -> int:
    from domain.errors import InvalidInput, PersonNotFound
    from domain.personal_data import PersonalDataAlreadyErased
    from events.bootstrap import bootstrap
    from events.port import Metadata

    runtime = await bootstrap(url, listen=False)
    try:
        result = await runtime.service.execute(
            command, metadata=Metadata(actor_id=actor, actor_role="hr")
        )
    except PersonNotFound as exc:
        fail(f"{exc.code}: {exc.message}", Exit.NOT_FOUND)
    except PersonalDataAlreadyErased as exc:
        fail(f"{exc.code}: {exc.message}; nothing written", Exit.CONFLICT)
    except InvalidInput as exc:
        fail(f"{exc.code} ({exc.field}): {exc.message}", Exit.BAD_INPUT)
    finally:
        await runtime.close()
    return result.position


def master_key_command() -> None:
    """Print a new random master key (base64) for LADDER_MASTER_KEY."""
    from events.sealing import new_master_key

    print(new_master_key())


def register(app: typer.Typer) -> None:
    app.command("erase", rich_help_panel="Run")(erase_command)
    app.command("master-key", rich_help_panel="Develop")(master_key_command)
    app.command("reseal", rich_help_panel="Run")(reseal_command)


def reseal_command(
    to: Annotated[str, typer.Option("--to", help="URL of an empty database for the copy.")],
    url: DatabaseUrl = None,
) -> None:
    """Copy a log written before sealing into a new database with its personal data
    sealed, then check both hold the same events (docs/audit.md: what does not carry over)."""
    source_url = database_url(url)
    report, difference = run(_reseal(source_url, to))
    if difference is not None:
        fail(f"the copy differs from the log: {difference}", Exit.VERIFY_FAILED)
    out.print(
        f"resealed {report.events} events in {report.appends} appends; the copy holds the "
        "same events, opened (hashes and checkpoints are new: sign a new checkpoint)",
        markup=False,
    )


async def _reseal(source_url: str, target_url: str) -> tuple[ResealReport, str | None]:
    from events.db import create_engine, normalize_url
    from events.migrate import migrate
    from events.reseal import compare, reseal
    from events.sql_store import SqlEventStore

    source_engine = create_engine(source_url)
    target_engine = create_engine(normalize_url(target_url))
    source = SqlEventStore(source_engine)
    target = SqlEventStore(target_engine)
    try:
        await migrate(target_engine)
        report = await reseal(source, target_engine)
        return report, await compare(source, target)
    finally:
        await source.close()
        await target.close()
        await source_engine.dispose()
        await target_engine.dispose()
