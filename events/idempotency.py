"""Looking up what an idempotency key already wrote, before deciding again.

The store's append refuses to write twice for one key (checked under its append lock), so
this lookup is only a fast path: a repeated command returns its first result instead of
being decided again against a state it already changed ("person already exists").
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from events.port import EventStore, RecordedEvent
from events.schema import idempotency_table


async def known_positions(engine: AsyncEngine, key: str) -> list[int] | None:
    """The positions the append carrying ``key`` wrote, or None if it was never used."""
    async with engine.connect() as conn:
        found = await conn.scalar(
            sa.select(idempotency_table.c.positions).where(idempotency_table.c.key == key)
        )
    if found is None:
        return None
    positions: list[int] = orjson.loads(found)
    return positions


async def read_positions(store: EventStore, positions: Sequence[int]) -> list[RecordedEvent]:
    """The recorded events at ``positions`` (which an append wrote contiguously)."""
    if not positions:
        return []
    first, last = min(positions), max(positions)
    wanted = set(positions)
    events = await store.read_all(after_position=first - 1, limit=last - first + 1)
    return [e for e in events if e.position in wanted]
