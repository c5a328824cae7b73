"""The SQLModel tables and the migrations describe the same schema."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from events.sql_store import SqlEventStore

OURS = {"events", "idempotency_keys", "merkle_nodes"}


def _diff(conn: Connection) -> list[Any]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    diffs = compare_metadata(ctx, SQLModel.metadata)

    def table_of(diff: Any) -> str | None:
        item = diff[0] if isinstance(diff, list) else diff
        for part in item[1:]:
            name = getattr(part, "name", None)
            table = getattr(part, "table", None)
            if table is not None:
                return str(table.name)
            if isinstance(part, str) and part in OURS:
                return part
            if name in OURS:
                return str(name)
        return None

    return [d for d in diffs if table_of(d) in OURS]


async def test_migrated_schema_matches_the_sqlmodel_tables(store: SqlEventStore) -> None:
    async with store.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []
