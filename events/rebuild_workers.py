"""A rebuild's share for other processes: one core per group of projections.

Rebuilding is CPU-bound Python (decode, apply, derive): threads would take turns on one
GIL. For a big log the projector hands groups of projections to worker processes; each
reads the log itself, writes its projections' new tables and reports how far it got and how
many events each projection applied. The projector then, as for its own share, applies the
tail of the log under its lock and swaps every new table in at once.

Workers are spawned (nothing inherited: no event loop, no open connections) and find their
projections again by name in ``events.projections.ALL``; a projection that is not one of
those, or a store with its own upcasters, stays in the calling process.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from events.port import EventStore
from events.projections import ALL, Projection
from events.sql_store import SqlEventStore
from events.upcasting import default_upcasters

Built = dict[str, tuple[int, int]]
"""Per projection name: (log position its new table reached, events it applied)."""
Work = Callable[[str, str | None, list[str], int, int], Built]
"""``work(url, schema, names, batch_size, max_rows_in_memory)``, run in a worker."""

_BY_NAME = {p.name: p for p in ALL}


def movable(projection: Projection) -> bool:
    """Whether a worker process can build ``projection`` (it finds it by name)."""
    return _BY_NAME.get(projection.name) is projection


def share(
    chosen: Sequence[Projection], workers: int, store: EventStore, engine: AsyncEngine
) -> tuple[list[Projection], list[list[Projection]]]:
    """(what the calling process builds, the groups for worker processes): workers read
    the log with a default ``SqlEventStore`` of their own, so only such a store's
    projections can go."""
    if (
        workers < 2
        or not isinstance(store, SqlEventStore)
        or store.engine is not engine
        or store.upcasters is not default_upcasters
    ):
        return list(chosen), []
    groups = split([p for p in chosen if movable(p)], workers)
    if len(groups) < 2:
        return list(chosen), []
    here = [p for p in chosen if not movable(p) or p in groups[0]]
    return here, groups[1:]


async def address(engine: AsyncEngine) -> tuple[str, str | None]:
    """How a worker process reaches ``engine``'s database: its URL and PostgreSQL schema."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "sqlite":
        return url, None
    async with engine.connect() as conn:
        return url, await conn.scalar(sa.text("SELECT current_schema()"))


def split(projections: Sequence[Projection], workers: int) -> list[list[Projection]]:
    """At most ``workers`` groups, balanced by how many event types each projection handles
    (the people and timeline projections handle nearly all and cost the most)."""
    groups: list[list[Projection]] = [[] for _ in range(max(1, workers))]
    loads = [0] * len(groups)
    for p in sorted(projections, key=lambda p: (-len(p.types), p.name)):
        i = loads.index(min(loads))
        groups[i].append(p)
        loads[i] += len(p.types)
    return [g for g in groups if g]


async def build_elsewhere(
    work: Work,
    url: str,
    schema: str | None,
    groups: Sequence[Sequence[Projection]],
    *,
    batch_size: int,
    max_rows_in_memory: int,
) -> Built:
    """Run ``work`` for each group in its own spawned process; what they built, merged."""
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=len(groups), mp_context=context)
    try:
        futures = [
            loop.run_in_executor(
                pool, work, url, schema, [p.name for p in g], batch_size, max_rows_in_memory
            )
            for g in groups
        ]
        # Every worker is waited for, failed or not: none may still be writing its tables
        # when the caller goes on (and builds a failed worker's share itself).
        results = await asyncio.gather(*futures, return_exceptions=True)
        built: Built = {}
        for result in results:
            if isinstance(result, BaseException):
                raise result
            built.update(result)
        return built
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
