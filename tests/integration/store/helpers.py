"""Small builders and raw-SQL helpers for the store contract suite."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from events.hashing import entry_bytes
from events.port import NewEvent, RecordedEvent
from events.sql_store import SqlEventStore
from tests.support import bypass_append_only


def ev(type: str = "Noted", **data: Any) -> NewEvent:
    return NewEvent(type, data)


async def count_rows(store: SqlEventStore, table: str = "events") -> int:
    async with store.engine.connect() as conn:
        value = await conn.scalar(text(f"SELECT count(*) FROM {table}"))
    return int(value or 0)


async def tamper(store: SqlEventStore, *statements: tuple[str, dict[str, Any]]) -> None:
    """Run raw SQL behind the store's back, append-only triggers bypassed."""
    async with store.engine.begin() as conn:
        await bypass_append_only(conn)
        for sql, params in statements:
            await conn.execute(text(sql), params)


def raw_uuid(store: SqlEventStore, value: UUID) -> str:
    """A UUID as raw SQL stores it (SQLite: 32 hex digits; PostgreSQL: the uuid text)."""
    return value.hex if store.engine.dialect.name == "sqlite" else str(value)


async def legacy_append(engine: AsyncEngine, stream: str, events: list[NewEvent]) -> None:
    """Append as the store did before the Merkle tree (revisions 0001 and 0002): the
    events rows and their chain, nothing else."""
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from events.encoding import plan_appends
    from events.port import ANY, StreamAppend
    from events.rows import build_rows
    from events.schema import events_table as T

    plans = plan_appends([StreamAppend(stream, events, ANY)])
    async with engine.begin() as conn:
        last = int(await conn.scalar(sa.select(sa.func.max(T.c.position))) or 0)
        head = (
            await conn.execute(
                sa.select(T.c.version, T.c.hash)
                .where(T.c.stream == stream)
                .order_by(T.c.version.desc())
                .limit(1)
            )
        ).first()
        heads = [(0, None) if head is None else (int(head[0]), str(head[1]))]
        rows = build_rows(plans, heads, last, datetime.now(UTC), {}, "{}")
        await conn.execute(T.insert(), [r._asdict() for r in rows])


def entry_of(e: RecordedEvent) -> bytes:
    """The Merkle entry bytes of an event read back (not upcast: tests only use types
    without upcasters)."""
    return entry_bytes(
        position=e.position,
        event_id=e.event_id,
        stream=e.stream,
        version=e.version,
        type=e.type,
        schema_version=e.schema_version,
        data=e.data,
        metadata=e.metadata,
        recorded_at=e.recorded_at,
    )
