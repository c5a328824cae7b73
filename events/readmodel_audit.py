"""Checking the served read models against the log (``ladder verify --read-models``).

Each projection is replayed from the log in memory (``events.projections.base.replay``),
up to the position its checkpoint says the served table reached, and compared row by row
with that table: a row edited, added or removed behind the projector is named by its
primary key. Values are compared in a normal form (times in UTC, dates and ids as text),
since the database gives back its own types.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from events.projections.base import Envelope, Projection, replay
from events.readmodels.tables import checkpoints
from events.sql_store import SqlEventStore

_PAGE = 5000
_SHOWN = 3


async def audit_read_models(
    store: SqlEventStore, engine: AsyncEngine, projections: Sequence[Projection]
) -> list[str]:
    """One line per projection whose served rows differ from the log's (empty: all hold)."""
    async with engine.connect() as conn:
        reached = {
            str(r[0]): int(r[1])
            for r in await conn.execute(sa.select(checkpoints.c.name, checkpoints.c.position))
        }
    last = max(reached.values(), default=0)
    envelopes: list[Envelope] = []
    after = 0
    while after < last:
        page = await store.read_all(after, limit=min(_PAGE, last - after))
        if not page:
            break
        envelopes.extend(Envelope.of(r) for r in page)
        after = page[-1].position
    problems: list[str] = []
    for p in projections:
        if p.name not in reached:
            problems.append(f"read model {p.name} has never been built")
            continue
        upto = reached[p.name]
        expected = {
            _norm(k): _row(r)
            for k, r in replay(p, (e for e in envelopes if e.position <= upto)).items()
        }
        async with engine.connect() as conn:
            served = {
                _norm(r._mapping[p.pk]): _row(dict(r._mapping))
                for r in await conn.execute(sa.select(p.table))
            }
        differ = sorted(str(k) for k in expected.keys() & served.keys() if expected[k] != served[k])
        extra = sorted(str(k) for k in served.keys() - expected.keys())
        missing = sorted(str(k) for k in expected.keys() - served.keys())
        parts = [
            f"{what} {', '.join(keys[:_SHOWN])}{' ...' if len(keys) > _SHOWN else ''}"
            for what, keys in (
                ("rows that differ from the log:", differ),
                ("rows the log does not make:", extra),
                ("rows missing:", missing),
            )
            if keys
        ]
        if parts:
            problems.append(f"read model {p.name} ({p.table.name}): " + "; ".join(parts))
    return problems


def _row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _norm(v) for k, v in row.items()}


def _norm(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.isoformat()
    if isinstance(value, date | UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict | list | tuple):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=_norm)
    return value
