"""Small builders and raw-SQL helpers for the store contract suite."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import text

from events.port import NewEvent
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
