"""``ladder export-roster`` and ``ladder export-history``: CSV files for spreadsheets.

The columns are documented in docs/cli.md (and the README); the rows come from the read
functions the API serves (``events.readmodels.exports``), in a fixed order. Files are
written with the ``csv`` module (a header row, ``\\r\\n`` line ends, quoting as needed),
UTF-8, and spreadsheet-safe: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return is written with a leading ``'`` so that no spreadsheet runs it as a
formula (CSV injection).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any
from uuid import UUID

import typer

from api.cli.errors import Exit, fail, out, run
from api.cli.support import DatabaseUrl, existing_database, parse_date

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from events.readmodels.exports import HistoryLine, RosterLine

ROSTER_COLUMNS = (
    "person_id", "name", "email", "status", "track", "level_key", "level_title",
    "manager_id", "hired_on", "departed_on", "level_since", "days_in_level",
    "years_of_experience", "ready", "next_level", "missing", "as_of",
)  # fmt: skip
HISTORY_COLUMNS = (
    "person_id", "name", "event_id", "position", "stream_version", "type", "effective_on",
    "recorded_at", "actor", "track", "level_from", "level_to", "corrected", "rescinded",
    "rescind_reason", "details",
)  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is a formula to Excel, LibreOffice or Google Sheets."""


def spreadsheet_safe(value: object) -> str:
    """The cell's text, with a leading ``'`` when a spreadsheet would read it as a formula;
    ``None`` is an empty cell, booleans are ``true``/``false``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value.isoformat() if isinstance(value, date | datetime) else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def roster_row(line: RosterLine) -> dict[str, object]:
    p, r = line.person, line.readiness
    return {
        "person_id": p.person_id,
        "name": p.name,
        "email": p.email,
        "status": p.status,
        "track": p.track,
        "level_key": p.level,
        "level_title": line.level_title,
        "manager_id": p.manager_id,
        "hired_on": p.hired_on,
        "departed_on": p.departed_on,
        "level_since": p.level_since,
        "days_in_level": p.days_in_level(line.as_of),
        "years_of_experience": f"{r.years_of_experience:.2f}",
        "ready": r.ready,
        "next_level": r.next_level,
        "missing": " ".join(r.missing),
        "as_of": line.as_of,
    }


def history_row(line: HistoryLine) -> dict[str, object]:
    from events.readmodels.views import utc

    e = line.event
    return {
        "person_id": line.person.person_id,
        "name": line.person.name,
        "event_id": e.event_id,
        "position": e.position,
        "stream_version": e.stream_version,
        "type": e.type,
        "effective_on": e.effective_on,
        "recorded_at": utc(e.recorded_at),
        "actor": e.actor_id,
        "track": e.track,
        "level_from": e.from_level,
        "level_to": e.level,
        "corrected": e.corrected_by is not None,
        "rescinded": e.rescinded,
        "rescind_reason": e.rescind_reason,
        "details": json.dumps(e.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
    }


def _opened(file: Path) -> AbstractContextManager[IO[str]]:
    if str(file) == "-":
        return nullcontext(sys.stdout)
    if file.is_dir():
        fail(f"{file} is a directory", Exit.BAD_INPUT)
    if not file.parent.is_dir():
        fail(f"no such directory: {file.parent}", Exit.NOT_FOUND)
    return file.open("w", encoding="utf-8", newline="")


async def _write(
    url: str,
    file: Path,
    columns: Sequence[str],
    pages: Callable[[Any], AsyncIterator[Iterable[Any]]],
    row: Callable[[Any], dict[str, object]],
) -> int:
    from events.db import create_engine

    engine = create_engine(url)
    written = 0
    try:
        with _opened(file) as stream:
            writer = csv.writer(stream, lineterminator="\r\n")
            writer.writerow(columns)
            async for page in pages(engine):
                for line in page:
                    values = row(line)
                    writer.writerow([spreadsheet_safe(values[c]) for c in columns])
                    written += 1
    finally:
        await engine.dispose()
    return written


OutFile = Annotated[Path, typer.Argument(help="The CSV file to write (`-`: standard output).")]


def export_roster(
    file: OutFile,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="DATE",
            help="The roster as effective on this day (default today, UTC): every fact "
            "effective on or before it, as recorded now.",
        ),
    ] = None,
    url: DatabaseUrl = None,
) -> None:
    """Everyone on the roster on --as-of, by name, one row each (columns in docs/cli.md)."""
    from events.readmodels.exports import roster

    day = parse_date(as_of, "--as-of") or datetime.now(UTC).date()
    database = existing_database(url)
    count = run(_write(database, file, ROSTER_COLUMNS, lambda e: roster(e, as_of=day), roster_row))
    if str(file) != "-":
        out.print(f"wrote {count} people as of {day.isoformat()} to {file}", markup=False)


def export_history(
    person: Annotated[
        str | None,
        typer.Argument(help="The person's id (UUID) or email address (or use --all)."),
    ] = None,
    file: Annotated[Path | None, typer.Argument(help="The CSV file (`-`: stdout).")] = None,
    everyone: Annotated[bool, typer.Option("--all", help="Everyone's career events.")] = False,
    url: DatabaseUrl = None,
) -> None:
    """One row per career event of PERSON (or of everyone with --all), columns in docs/cli.md."""
    if everyone and file is None and person is not None:
        file = Path(person)
        person = None
    if file is None or (person is None) == (not everyone):
        fail("give PERSON FILE.csv, or --all FILE.csv", Exit.USAGE)
    database = existing_database(url)
    count = run(_export_history(database, person, file))
    if str(file) != "-":
        out.print(f"wrote {count} career events to {file}", markup=False)


async def _export_history(url: str, person: str | None, file: Path) -> int:
    from events.readmodels.exports import history

    ids: list[str] | None = None
    if person is not None:
        ids = [await _resolve(url, person)]
    return await _write(url, file, HISTORY_COLUMNS, lambda e: history(e, ids), history_row)


async def _resolve(url: str, person: str) -> str:
    """The id of ``person`` (a UUID, or the email of exactly one person)."""
    from events.db import create_engine

    engine = create_engine(url)
    try:
        found = await _people_named(engine, person)
    finally:
        await engine.dispose()
    if not found:
        fail(f"no person {person}", Exit.NOT_FOUND)
    if len(found) > 1:
        fail(f"{len(found)} people have the email {person}: give an id", Exit.BAD_INPUT)
    return found[0]


async def _people_named(engine: AsyncEngine, person: str) -> list[str]:
    from events.readmodels.emails import people_with_email
    from events.readmodels.exports import EVERYONE
    from events.readmodels.queries import get_person

    try:
        person_id = str(UUID(person))
    except ValueError:
        if "@" not in person:
            fail(f"{person!r} is neither a person id (UUID) nor an email address", Exit.BAD_INPUT)
        return sorted(str(i) for i in await people_with_email(engine, person))
    return [] if await get_person(engine, person_id, today=EVERYONE) is None else [person_id]


def register(app: typer.Typer) -> None:
    app.command("export-roster", rich_help_panel="Run")(export_roster)
    app.command("export-history", rich_help_panel="Run")(export_history)
