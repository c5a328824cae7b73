"""Operating commands: ``ladder serve``, ``ladder migrate`` and ``ladder rebuild``."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from api.cli_errors import Exit, fail, guard, out, run
from api.cli_support import DatabaseUrl, database_url, progress_bar
from api.settings import Settings, get_settings
from events.db import create_engine, normalize_url
from events.migrate import current_revision, migrate
from events.projections import ALL
from events.projector import Projector
from events.publisher import check_tail, read_checkpoint_log
from events.readmodels.tables import METADATA
from events.sql_store import SqlEventStore
from events.tlog import CheckpointError, NoteSigner


def _backend(url: str) -> str:
    return make_url(normalize_url(url)).get_backend_name()


# --- serve ----------------------------------------------------------------------------


def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default LADDER_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Port to listen on (default LADDER_PORT, 8000)."),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Worker processes. More than 1 only on PostgreSQL (SQLite has one writer)."
        ),
    ] = 1,
    url: DatabaseUrl = None,
) -> None:
    """Migrate, publish the default ladder on first start, and serve the API with uvicorn.

    GraphQL (and GraphiQL in development) at /graphql, probes at /healthz and /readyz.
    """
    import uvicorn

    settings = guard(get_settings)
    db = database_url(url)
    backend = guard(lambda: _backend(db))
    if workers > 1 and backend != "postgresql":
        fail(
            "--workers > 1 needs PostgreSQL: with SQLite one process writes at a time and "
            "subscribers in one worker would not hear another's writes",
            Exit.USAGE,
        )
    run(_prepare(db))
    # The workers (and api.app.serve_app, the factory) read the URL from the environment.
    os.environ["LADDER_DATABASE_URL"] = db
    uvicorn.run(
        "api.app:serve_app",
        factory=True,
        host=host or settings.host,
        port=settings.port if port is None else port,
        workers=workers,
        lifespan="on",
        # A worker imports the API and bootstraps before it answers: give it time.
        timeout_worker_healthcheck=60,
    )


async def _prepare(url: str) -> None:
    """Migrate, publish the default ladder and build stale read models once, before any
    worker starts (workers then only catch up, instead of racing to rebuild)."""
    from events.bootstrap import bootstrap

    runtime = await bootstrap(url, start_projector=False, listen=False)
    try:
        with progress_bar("Building the read models") as update:
            await runtime.projector.start(progress=update)
    finally:
        await runtime.close()


# --- migrate --------------------------------------------------------------------------


def migrate_command(url: DatabaseUrl = None) -> None:
    """Bring the database schema up to date (safe to run again)."""
    db = database_url(url)
    before, after = run(_migrate(db))
    if before == after:
        out.print(f"already at revision {after}", markup=False)
    else:
        out.print(
            f"migrated from {before or 'an empty database'} to revision {after}", markup=False
        )


async def _migrate(url: str) -> tuple[str | None, str | None]:
    engine = create_engine(url)
    try:
        before = await current_revision(engine)
        await migrate(engine)
        return before, await current_revision(engine)
    finally:
        await engine.dispose()


# --- rebuild --------------------------------------------------------------------------


def rebuild(
    projection: Annotated[
        str | None, typer.Argument(help="One projection (default: all of them).")
    ] = None,
    url: DatabaseUrl = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            min=1,
            help="Processes to build with (default: one per core, at most 2, "
            "once the log holds 50,000 events).",
        ),
    ] = None,
    unverified: Annotated[
        bool,
        typer.Option(
            "--unverified", help="Rebuild even when the log fails its checkpoint tail check."
        ),
    ] = False,
) -> None:
    """Rebuild read models from the log into fresh tables, then swap them in.

    Queries keep reading the old tables until the swap commits; Ctrl-C leaves them as they were.
    With LADDER_CHECKPOINT_KEY and LADDER_CHECKPOINT_LOG set, a log whose tail does not hold
    against the last checkpoint is refused (exit 6) unless --unverified.
    """
    names = sorted(p.name for p in ALL)
    if projection is not None and projection not in names:
        fail(f"no projection {projection!r} (known: {', '.join(names)})", Exit.NOT_FOUND)
    chosen = [projection] if projection else names
    db = database_url(url)
    if not unverified:
        problem = run(_tail_problem(db, guard(get_settings)))
        if problem is not None:
            fail(
                f"refused: {problem}; rebuilding would serve it as sound (--unverified to "
                "rebuild anyway)",
                Exit.CONFLICT,
            )
    position = run(_rebuild(db, chosen, quiet, workers))
    out.print(f"rebuilt {', '.join(chosen)} up to position {position}", markup=False)


async def _rebuild(url: str, names: list[str], quiet: bool, workers: int | None) -> int:
    engine = create_engine(url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
        projector = Projector(engine, SqlEventStore(engine), ALL)
        with progress_bar("Rebuilding", quiet=quiet) as update:
            return await projector.rebuild(names, progress=update, workers=workers)
    finally:
        await engine.dispose()


async def _tail_problem(url: str, settings: Settings) -> str | None:
    """What is wrong with the log's tail against the last logged checkpoint, if any."""
    if settings.checkpoint_key is None or settings.checkpoint_log is None:
        return None
    path = Path(settings.checkpoint_log)
    if not await asyncio.to_thread(path.exists):
        return None
    signer = NoteSigner.parse(await asyncio.to_thread(Path(settings.checkpoint_key).read_text))
    try:
        logged = await asyncio.to_thread(read_checkpoint_log, path, signer.verifier())
    except CheckpointError as exc:
        return f"checkpoint log {path}: {exc}"
    if not logged:
        return None
    engine = create_engine(url)
    try:
        return await check_tail(engine, logged[-1])
    finally:
        await engine.dispose()


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Run")(serve)
    app.command("migrate", rich_help_panel="Run")(migrate_command)
    app.command(rich_help_panel="Run")(rebuild)
