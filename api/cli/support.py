"""What the ``ladder`` commands share besides errors: the database URL, dates and times
from options, and progress bars (on stderr, only on a terminal).

Light to import: every command module imports it to declare its options, and ``ladder
--help`` imports every command module. Settings, SQLAlchemy and Rich's progress bars are
imported by the functions that use them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from api.cli.errors import Exit, bad_setting, err_console, fail
from api.moments import parse_moment

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL (sqlite:///file.db, postgresql://...). "
        "Default: LADDER_DATABASE_URL, DATABASE_URL, then sqlite:///ladder.db.",
        show_default=False,
    ),
]


def database_url(option: str | None) -> str:
    """``--database-url``, else the settings (environment, ``.env``), else ``ladder.db``."""
    if option:
        return option
    from pydantic import ValidationError

    from api.settings import get_settings

    try:
        return get_settings().database_url
    except ValidationError as exc:
        fail(bad_setting(exc), Exit.USAGE)


def existing_database(option: str | None) -> str:
    """``database_url(option)``, refusing an SQLite file that does not exist (read commands
    must not create an empty database as a side effect)."""
    from sqlalchemy.engine import make_url

    from events.db import normalize_url

    url = database_url(option)
    try:
        parsed = make_url(normalize_url(url))
    except ValueError as exc:
        fail(str(exc), Exit.USAGE)
    sqlite_file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if sqlite_file and Path(sqlite_file).is_dir():
        fail(f"{parsed.database} is a directory, not a database file", Exit.BAD_INPUT)
    if sqlite_file and not Path(sqlite_file).is_file():
        fail(
            f"no database file {parsed.database} (run `ladder migrate` or `ladder demo`)",
            Exit.NOT_FOUND,
        )
    return url


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date (YYYY-MM-DD)", Exit.BAD_INPUT)


def parse_time(value: str | None, option: str) -> datetime | None:
    """An ISO time (UTC when no zone is given); a bare date means the end of that day in UTC
    (``api.moments``, the same meaning as GraphQL's ``DateTime`` arguments)."""
    if value is None:
        return None
    try:
        return parse_moment(value)
    except ValueError:
        fail(
            f"{option} {value!r} is not a time (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+00:00])",
            Exit.BAD_INPUT,
        )


@contextmanager
def progress_bar(description: str, *, quiet: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar on stderr; yields ``update(done, total)``."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=quiet or not err_console.is_terminal,
    )
    task = bar.add_task(description, total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=max(total, done, 1))

    with bar:
        yield update
