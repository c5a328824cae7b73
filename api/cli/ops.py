"""Operating commands: ``ladder serve``, ``ladder migrate`` and ``ladder rebuild``."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from api.cli.errors import Exit, err_console, fail, guard, out, run
from api.cli.support import DatabaseUrl, database_url, existing_database, progress_bar

if TYPE_CHECKING:
    from api.settings import Settings
    from events.checkpoints import Lag

# The server, the store and the projector are imported by the commands that use them
# (``ladder --help`` imports this module).


def _backend(url: str) -> str:
    from sqlalchemy.engine import make_url

    from events.db import normalize_url

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
    import logging
    import logging.config

    import uvicorn

    from api.documents import DocumentsFileError, TrustedDocuments
    from api.logs import logging_config
    from api.protocol import TimedHttpToolsProtocol
    from api.settings import DEV_TOKEN_SECRET, get_settings
    from api.startup import StartupSummary
    from events.sealing import configure_master_key

    settings = guard(get_settings)
    if (reason := settings.insecure()) is not None:
        fail(f"refusing to serve in production: {reason}", Exit.INSECURE)
    if (reason := settings.master_key_problem()) is not None:
        fail(f"refusing to serve: {reason}", Exit.INSECURE)
    configure_master_key(settings.master_key)
    db = database_url(url)
    backend = guard(lambda: _backend(db))
    if workers > 1 and backend != "postgresql":
        fail(
            "--workers > 1 needs PostgreSQL: with SQLite one process writes at a time and "
            "subscribers in one worker would not hear another's writes",
            Exit.USAGE,
        )
    try:
        registered = len(TrustedDocuments.load(Path(settings.documents_file)))
    except DocumentsFileError as exc:
        fail(str(exc), Exit.BAD_INPUT)
    host = host or settings.host
    port = settings.port if port is None else port
    _check_free(host, port)
    # Logging first: preparing may rebuild or catch up the read models, and says so.
    log_config = logging_config(settings.log_format, settings.log_level)
    logging.config.dictConfig(log_config)
    log_position, projections = run(_prepare(db))
    summary = StartupSummary(
        settings, db, host, port, workers, log_position, projections, registered
    )
    for line in summary.lines():
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    if settings.is_development and settings.token_secret == DEV_TOKEN_SECRET:
        err_console.print(
            "development mode: tokens signed with the development secret written in the "
            "source are accepted (LADDER_ENV=production refuses to start with it)",
            markup=False,
        )
    logging.getLogger("api.startup").info("serving", extra={"fields": summary.fields()})
    # The workers (and api.app.serve_app, the factory) read the URL from the environment.
    os.environ["LADDER_DATABASE_URL"] = db
    uvicorn.run(
        "api.app:serve_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        lifespan="on",
        log_config=log_config,
        access_log=False,  # api.access logs each request once, with its GraphQL operation
        http=TimedHttpToolsProtocol,
        timeout_keep_alive=int(settings.keep_alive_timeout),
        ws_ping_interval=settings.ws_ping_interval,
        ws_ping_timeout=settings.ws_ping_timeout,
        ws_max_size=settings.max_body_bytes,
        # A worker imports the API and bootstraps before it answers: give it time.
        timeout_worker_healthcheck=60,
    )


def _check_free(host: str, port: int) -> None:
    """Fail in one line when ``host:port`` cannot be bound (in use, unknown host), before
    anything starts (uvicorn would print its own block)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        fail(f"cannot bind {host}:{port}: {exc.strerror}", Exit.USAGE)
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            fail(f"cannot bind {host}:{port}: {exc.strerror}", Exit.USAGE)


async def _prepare(url: str) -> tuple[int, list[Lag]]:
    """Migrate, publish the default ladder and build stale read models once, before any
    worker starts (workers then only catch up, instead of racing to rebuild); return the
    log's position and the read models' lag for the start-up summary."""
    from events.bootstrap import bootstrap
    from events.checkpoints import lag

    runtime = await bootstrap(url, start_projector=False, listen=False)
    try:
        with progress_bar("Building the read models") as update:
            await runtime.projector.start(progress=update)
        position = await runtime.store.last_position()
        return position, await lag(runtime.engine, runtime.projector.projections)
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
    from events.db import create_engine
    from events.migrate import current_revision, migrate

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
    from api.settings import get_settings
    from events.projections import ALL

    names = sorted(p.name for p in ALL)
    if projection is not None and projection not in names:
        fail(f"no projection {projection!r} (known: {', '.join(names)})", Exit.NOT_FOUND)
    chosen = [projection] if projection else names
    db = existing_database(url)
    if not unverified:
        problem = run(_tail_problem(db, guard(get_settings)))
        if problem is not None:
            fail(
                f"refused: {problem}; rebuilding would serve it as sound (--unverified to "
                "rebuild anyway)",
                Exit.CONFLICT,
            )
    position, letters = run(_rebuild(db, chosen, quiet, workers))
    out.print(f"rebuilt {', '.join(chosen)} up to position {position}", markup=False)
    for name, count in sorted(letters.items()):
        if name in chosen:
            out.print(
                f"{name}: {count} dead letter(s) remain (`ladder projections` lists them)",
                markup=False,
            )


async def _rebuild(
    url: str, names: list[str], quiet: bool, workers: int | None
) -> tuple[int, dict[str, int]]:
    from events.db import create_engine
    from events.dead_letters import degraded
    from events.migrate import migrate
    from events.projections import ALL
    from events.projector import Projector
    from events.readmodels.tables import METADATA
    from events.sql_store import SqlEventStore

    engine = create_engine(url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
        projector = Projector(engine, SqlEventStore(engine), ALL)
        with progress_bar("Rebuilding", quiet=quiet) as update:
            position = await projector.rebuild(names, progress=update, workers=workers)
        return position, await degraded(engine)
    finally:
        await engine.dispose()


# --- projections ----------------------------------------------------------------------


def projections(
    url: DatabaseUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Each read model's status (version, position, events behind, dead letters), then the
    dead letters: events a projection could not apply and skipped. `ladder rebuild` with
    fixed code applies them and clears the list."""
    from rich.table import Table

    status, letters = run(_projections(existing_database(url)))
    if as_json:
        print(orjson.dumps({"projections": status, "deadLetters": letters}).decode())
        return
    table = Table("projection", "version", "position", "behind", "dead letters", "status")
    for row in status:
        table.add_row(
            str(row["name"]),
            str(row["version"]),
            str(row["position"]),
            str(row["behind"]),
            str(row["deadLetters"]),
            str(row["status"]),
        )
    out.print(table)
    for letter in letters:
        out.print(
            f"dead letter: {letter['projection']} at position {letter['position']} "
            f"({letter['eventType'] or 'row ' + str(letter['rowKey'])}): {letter['error']}",
            markup=False,
        )


async def _projections(url: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    from events.db import create_engine
    from events.dead_letters import degraded, list_dead_letters
    from events.projections import ALL
    from events.projector import Projector
    from events.readmodels.tables import METADATA
    from events.sql_store import SqlEventStore

    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
        projector = Projector(engine, SqlEventStore(engine), ALL)
        stored = {c.name: c for c in await projector.checkpoints()}
        counts = await degraded(engine)
        status: list[dict[str, object]] = []
        for report in await projector.check_consistency():
            checkpoint = stored.get(report.name)
            state = "degraded" if counts.get(report.name) else "ok"
            if checkpoint is None:
                state = "not built"
            elif report.behind:
                state = "behind" if state == "ok" else state
            status.append(
                {
                    "name": report.name,
                    "version": checkpoint.version if checkpoint else None,
                    "position": report.position,
                    "behind": report.pending,
                    "deadLetters": counts.get(report.name, 0),
                    "status": state,
                }
            )
        letters: list[dict[str, object]] = [
            {
                "projection": d.projection,
                "position": d.position,
                "eventId": d.event_id,
                "eventType": d.event_type,
                "rowKey": d.row_key,
                "error": d.error,
                "recordedAt": d.recorded_at.isoformat(),
            }
            for d in await list_dead_letters(engine)
        ]
        return status, letters
    finally:
        await engine.dispose()


async def _tail_problem(url: str, settings: Settings) -> str | None:
    """What is wrong with the log's tail against the last logged checkpoint, if any."""
    import asyncio

    from events.db import create_engine
    from events.publisher import check_tail, read_checkpoint_log
    from events.tlog import CheckpointError, NoteSigner

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
    app.command(rich_help_panel="Run")(projections)
