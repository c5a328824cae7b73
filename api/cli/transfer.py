"""``ladder export FILE`` and ``ladder import FILE``: the whole log as JSON Lines.

Export writes a temporary file next to FILE and renames it when complete. Import fills an
empty database in one transaction, checking every line and hash chain as it reads; a
malformed or tampered file is refused, naming the line, and nothing is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.errors import Exit, fail, out, run
from api.cli.support import DatabaseUrl, database_url, existing_database, progress_bar

if TYPE_CHECKING:
    from events.transfer import TransferResult

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


def export(
    file: Annotated[Path, typer.Argument(help="The JSON Lines file to write.", dir_okay=False)],
    url: DatabaseUrl = None,
    quiet: Quiet = False,
) -> None:
    """Write the whole log (positions, versions, times, data, hashes) to FILE."""
    if not file.parent.is_dir():
        fail(f"no such directory: {file.parent}", Exit.NOT_FOUND)
    result = run(_export(existing_database(url), file, quiet))
    out.print(
        f"exported {result.events} events in {result.streams} streams to {file}", markup=False
    )


async def _export(url: str, file: Path, quiet: bool) -> TransferResult:
    from events.db import create_engine
    from events.transfer import export_log

    engine = create_engine(url)
    try:
        with progress_bar("Exporting", quiet=quiet) as update:
            return await export_log(engine, file, progress=update)
    finally:
        await engine.dispose()


def import_(
    file: Annotated[Path, typer.Argument(help="A file written by `ladder export`.")],
    url: DatabaseUrl = None,
    quiet: Quiet = False,
) -> None:
    """Load FILE into an EMPTY database, verifying every hash chain; all or nothing.

    Read models are built on the next `ladder serve` (or `ladder rebuild`).
    """
    if not file.is_file():
        fail(f"no such file: {file}", Exit.NOT_FOUND)
    result = run(_import(database_url(url), file, quiet))
    out.print(
        f"imported {result.events} events in {result.streams} streams from {file}; "
        "every hash chain verified",
        markup=False,
    )


async def _import(url: str, file: Path, quiet: bool) -> TransferResult:
    from events.db import create_engine
    from events.migrate import migrate
    from events.transfer import StoreNotEmpty, TransferError, import_log

    engine = create_engine(url)
    try:
        await migrate(engine)
        with progress_bar("Importing", quiet=quiet) as update:
            return await import_log(engine, file, progress=update)
    except StoreNotEmpty as exc:
        fail(f"refused: {exc.message}", Exit.CONFLICT)
    except TransferError as exc:
        fail(f"refused {file}: {exc.message}; nothing was imported", Exit.BAD_INPUT)
    finally:
        await engine.dispose()


def register(app: typer.Typer) -> None:
    app.command("export", rich_help_panel="Audit")(export)
    app.command("import", rich_help_panel="Audit")(import_)
