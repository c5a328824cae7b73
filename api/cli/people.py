"""``ladder import-people FILE.csv [--dry-run]``: bulk onboarding (``events.onboarding``).

Every row is judged by the hire rules first; each bad row is printed on one line (its line
in the file, the column, the rule's code) and nothing is written. A clean file is hired in
one transaction, managers before their reports. The same file again writes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.errors import Exit, fail, out, run
from api.cli.support import DatabaseUrl, database_url

if TYPE_CHECKING:
    from events.onboarding import ImportReport


def import_people_command(
    file: Annotated[
        Path, typer.Argument(help="CSV with a header: name, email, track, level, hired_on...")
    ],
    url: DatabaseUrl = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Judge every row, report, write nothing.")
    ] = False,
    actor: Annotated[str, typer.Option("--actor", help="Recorded as who hired.")] = "cli",
) -> None:
    """Hire everyone in FILE (columns in docs/cli.md), all or nothing; --dry-run only judges."""
    if not file.is_file():
        fail(f"no such file: {file}", Exit.NOT_FOUND)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text", Exit.BAD_INPUT)
    report = run(_import(database_url(url), text, actor, dry_run))
    for error in report.errors:
        out.print(str(error), markup=False)
    if report.errors:
        fail(
            f"{len(report.errors)} bad rows of {report.rows}; nothing was imported", Exit.BAD_INPUT
        )
    if report.replayed:
        message = (
            f"already imported: {report.rows} rows (position {report.position}); nothing written"
        )
    elif dry_run:
        message = f"{report.rows} rows valid; nothing written (dry run)"
    else:
        message = (
            f"hired {report.hired} people from {report.rows} rows (position {report.position})"
        )
    out.print(message, markup=False)


async def _import(url: str, text: str, actor: str, dry_run: bool) -> ImportReport:
    from events.bootstrap import bootstrap
    from events.onboarding import import_people

    runtime = await bootstrap(url, listen=False)
    try:
        return await import_people(runtime.service, text, actor=actor, dry_run=dry_run)
    finally:
        await runtime.close()


def register(app: typer.Typer) -> None:
    app.command("import-people", rich_help_panel="Run")(import_people_command)
