"""The composition root: build engines, wire adapters, nothing at import time.

``await bootstrap(url)`` migrates the database, starts the projector (rebuilding stale read
models, then catching up), publishes the default ladder on first start, starts the
notifier, and returns a ``Runtime`` that the API, the CLI and the tests share.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.commands import PublishLadder
from domain.ladder import default_ladder
from events.db import create_engine, is_sqlite
from events.erasure import Eraser
from events.fast_reads import close_readers
from events.inline import InlineProjector, PgInlineProjector
from events.migrate import migrate
from events.notifier import Notifier
from events.port import Metadata, RecordedEvent
from events.projections import ALL
from events.projector import Projector
from events.service import CareerService
from events.sql_store import SqlEventStore

log = logging.getLogger(__name__)

OWN_APPEND_GRACE = 0.005
"""Seconds the follower leaves a command to apply its own append before catching up."""
SYSTEM = Metadata(actor_id="system", actor_role="system")


@dataclass
class Runtime:
    """Everything a process needs to serve, shared by the API and the CLI."""

    url: str
    engine: AsyncEngine
    store: SqlEventStore
    service: CareerService
    projector: Projector
    notifier: Notifier

    follower: asyncio.Task[None] | None = None

    async def close(self) -> None:
        if self.follower is not None:
            self.follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.follower
        await self.notifier.close()
        close_readers(self.engine)
        await self.engine.dispose()


async def bootstrap(
    url: str,
    *,
    max_mentees: int = 5,
    run_migrations: bool = True,
    publish_default: bool = True,
    start_projector: bool = True,
    listen: bool = True,
    today: Callable[[], date] | None = None,
) -> Runtime:
    """Build and start a ``Runtime`` on ``url`` (SQLite file or PostgreSQL)."""
    engine = create_engine(url)
    if run_migrations:
        await migrate(engine)
    store = SqlEventStore(engine)
    notifier = Notifier()
    store.add_listener(notifier.on_append)
    projector = Projector(engine, store, ALL)

    # One transaction for an append and its read models (``events.inline``).
    if is_sqlite(engine):
        store.project_inline(
            sqlite=InlineProjector(ALL, engine.dialect), applied=projector.applied_inline
        )
    else:
        store.project_inline(
            postgres=PgInlineProjector(ALL, engine.dialect), applied=projector.applied_inline
        )

    async def read_your_writes(events: Sequence[RecordedEvent]) -> None:
        await projector.catch_up(known=events)

    service = CareerService(
        store,
        engine,
        sealer=store.sealer,
        max_mentees=max_mentees,
        today=today,
        after_append=read_your_writes,
    )
    service.on_erased = Eraser(store, projector)  # after an erasure: key, read models
    runtime = Runtime(url, engine, store, service, projector, notifier)
    if start_projector:
        # Before the default ladder: publishing a ladder reads the people read model (who
        # is on which level), which must exist even when another process published first.
        await projector.start()
    if publish_default:
        await publish_default_ladder(service)
    if listen and not is_sqlite(engine):
        # Other processes append too: hear them, and keep this process's read models current.
        async with engine.connect() as conn:
            schema = await conn.scalar(text("SELECT current_schema()"))
        await notifier.listen(engine.url, schema=str(schema) if schema else None)
        runtime.follower = asyncio.create_task(_keep_up(projector, notifier))
    return runtime


async def publish_default_ladder(service: CareerService) -> None:
    """Publish the default ``product`` ladder unless the log has one (once, by key)."""
    if "product" not in await service.ladders():
        await service.execute(
            PublishLadder(default_ladder()),
            metadata=Metadata(
                actor_id="system", actor_role="system", idempotency_key="default-ladder-product"
            ),
        )


async def _keep_up(projector: Projector, notifier: Notifier, poll: float = 1.0) -> None:
    """Catch the read models up whenever the log advances (or every ``poll`` seconds)."""
    seen = notifier.position
    while True:
        previous, seen = seen, await notifier.wait(seen, poll)
        if seen > previous:
            # Most wake-ups are this process's own appends, which the command applies
            # itself from memory: let it, then find nothing left to do.
            await asyncio.sleep(OWN_APPEND_GRACE)
        try:
            # Woken by an append: nothing to do if this process already applied it (its
            # own appends are applied by the command). On a poll, look at the log.
            await projector.catch_up(until=seen if seen > previous else None)
        except Exception:  # a failed catch-up is retried on the next wake-up
            log.exception("projector catch-up failed")
