"""The gap-free proof: concurrent writers, a tailing reader that never skips."""

from __future__ import annotations

import asyncio
import time

from events.migrate import migrate
from events.port import ANY
from events.sql_store import SqlEventStore, create_store
from tests.integration.store.helpers import ev

WRITERS = 8
EVENTS_EACH = 500
TOTAL = WRITERS * EVENTS_EACH


async def _write(store: SqlEventStore, n: int) -> None:
    for i in range(EVENTS_EACH):
        await store.append(f"person-w{n}", [ev(i=i)], ANY)


async def _tail(reader: SqlEventStore, seen: list[int], deadline: float) -> int:
    """Follow read_all until TOTAL events were seen; return how many reads found events."""
    position = 0
    productive_reads = 0
    while len(seen) < TOTAL and time.monotonic() < deadline:
        batch = await reader.read_all(after_position=position, limit=300)
        if not batch:
            await asyncio.sleep(0.002)
            continue
        productive_reads += 1
        seen.extend(e.position for e in batch)
        position = batch[-1].position
    return productive_reads


async def test_a_tailing_reader_sees_every_position_once_in_order(db_url: str) -> None:
    await migrate(db_url)
    writers = [await create_store(db_url, migrate=False) for _ in range(WRITERS)]
    reader = await create_store(db_url, migrate=False)
    seen: list[int] = []
    try:
        tail = asyncio.create_task(_tail(reader, seen, time.monotonic() + 300))
        await asyncio.gather(*(_write(w, n) for n, w in enumerate(writers)))
        productive_reads = await tail
        assert seen == list(range(1, TOTAL + 1))
        assert productive_reads > 1  # the reader followed the writers, not just the end state
        assert await reader.last_position() == TOTAL
        for n in range(WRITERS):
            assert await reader.stream_version(f"person-w{n}") == EVENTS_EACH
        assert (await reader.verify()).ok
    finally:
        for s in [*writers, reader]:
            await s.close()
