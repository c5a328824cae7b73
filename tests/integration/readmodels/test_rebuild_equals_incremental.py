from __future__ import annotations

import asyncio
import random
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.simulation import KINDS, Simulator, simulate
from events.db import create_engine
from events.migrate import migrate
from events.projections import ALL
from events.projector import Projector
from events.readmodels import tables
from events.sql_store import SqlEventStore
from tests.integration.readmodels.builders import record
from tests.unit.projections.histories import operations

TABLES = (tables.people, tables.timeline, tables.mentorships, tables.rotations)


async def snapshot(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    async with engine.connect() as conn:
        for t in TABLES:
            result = await conn.execute(sa.select(t).order_by(*t.primary_key.columns))
            out[t.name] = [dict(r._mapping) for r in result]
    return out


async def incremental_then_rebuild(
    engine: AsyncEngine, sim: Simulator, batch: int, every: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    store = SqlEventStore(engine)
    projector = Projector(engine, store, ALL, batch_size=batch)
    await projector.start()
    for n, group in enumerate(sim.groups, start=1):
        await record(store, *group)
        if n % every == 0:
            await projector.catch_up()
    await projector.catch_up()
    incremental = await snapshot(engine)
    assert all(c.ok for c in await projector.check_consistency())
    await projector.rebuild(batch_size=max(2, batch * 3), max_rows_in_memory=7)
    return incremental, await snapshot(engine)


async def on_a_fresh_sqlite_file(sim: Simulator, batch: int, every: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'events.db'}")
        try:
            await migrate(engine)
            incremental, rebuilt = await incremental_then_rebuild(engine, sim, batch, every)
        finally:
            await engine.dispose()
    assert rebuilt == incremental


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(operations(max_size=30), st.integers(1, 7), st.integers(1, 4))
def test_rebuilding_from_zero_equals_the_incrementally_kept_tables(
    ops: list[tuple[Any, ...]], batch: int, every: int
) -> None:
    asyncio.run(on_a_fresh_sqlite_file(simulate(ops), batch, every))


def a_busy_history(seed: int = 11, size: int = 300) -> Simulator:
    rng = random.Random(seed)
    ops = [
        (rng.choice(KINDS), rng.randint(0, 40), rng.randint(0, 6 * 365), rng.randint(0, 1000))
        for _ in range(size)
    ]
    return simulate(sorted(ops, key=lambda op: op[2]))


async def test_rebuild_equals_incremental_on_each_backend_for_a_busy_history(
    engine: AsyncEngine,
) -> None:
    incremental, rebuilt = await incremental_then_rebuild(engine, a_busy_history(), 5, 3)
    assert rebuilt == incremental
    assert len(incremental["rm_people"]) > 10


async def test_a_rebuild_shared_with_a_worker_process_equals_incremental(
    engine: AsyncEngine,
) -> None:
    store = SqlEventStore(engine)
    projector = Projector(engine, store, ALL, batch_size=50)
    await projector.start()
    for group in a_busy_history(seed=5).groups:
        await record(store, *group)
    await projector.catch_up()
    incremental = await snapshot(engine)
    # workers=2: people and mentorships (say) are built by a spawned process while this
    # one builds the rest, then everything is swapped in together.
    position = await projector.rebuild(workers=2, batch_size=40)
    assert position == await store.last_position()
    assert await snapshot(engine) == incremental
    assert all(c.ok for c in await projector.check_consistency())
