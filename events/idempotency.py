"""Looking up what an idempotency key already wrote, before deciding again; auditing the
records against the events.

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
from events.schema import events_table, idempotency_table


async def read_positions(store: EventStore, positions: Sequence[int]) -> list[RecordedEvent]:
    """The recorded events at ``positions`` (which an append wrote contiguously)."""
    if not positions:
        return []
    first, last = min(positions), max(positions)
    wanted = set(positions)
    events = await store.read_all(after_position=first - 1, limit=last - first + 1)
    return [e for e in events if e.position in wanted]


async def audit_keys(engine: AsyncEngine) -> list[str]:
    """What is wrong with the idempotency records, as findings (empty: they hold).

    Each record must list exactly the positions of the events whose metadata carries its
    key: a record re-pointed at other events would make a retried command answer with
    someone else's result, and one pointing nowhere would let it be decided twice.
    """
    carried: dict[str, list[int]] = {}
    after = 0
    while True:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(events_table.c.position, events_table.c["metadata"])
                    .where(events_table.c.position > after)
                    .order_by(events_table.c.position)
                    .limit(_PAGE)
                )
            ).all()
        for position, metadata in rows:
            try:
                key = orjson.loads(metadata).get("idempotency_key")
            except (orjson.JSONDecodeError, AttributeError):
                continue  # the tree and chain checks name an unreadable event
            if isinstance(key, str):
                carried.setdefault(key, []).append(int(position))
        if len(rows) < _PAGE:
            break
        after = rows[-1][0]
    async with engine.connect() as conn:
        records = {
            str(k): orjson.loads(p)
            for k, p in await conn.execute(
                sa.select(idempotency_table.c.key, idempotency_table.c.positions)
            )
        }
    problems: list[str] = []
    for key in sorted(set(records) | set(carried)):
        listed, found = records.get(key), carried.get(key, [])
        if listed is None:
            problems.append(f"idempotency key {key!r} of events {found} has no record")
        elif sorted(listed) != found:
            problems.append(
                f"idempotency key {key!r} points at positions {listed}, but its events are "
                f"at {found}: the record was changed"
            )
    return problems


_PAGE = 5000
