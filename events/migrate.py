"""Bring a database to the current schema: ``await migrate(url_or_engine)``.

Also a command: ``python -m events.migrate [URL] [REVISION]`` (URL defaults to
``DATABASE_URL``).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from events.db import create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Two processes migrating one PostgreSQL schema at once take turns.
_PG_MIGRATE_LOCK = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.migrate'))"


def alembic_config() -> Config:
    """An Alembic ``Config`` pointing at the packaged migrations (no ini file needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


async def migrate(url_or_engine: str | URL | AsyncEngine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` in one transaction."""
    if isinstance(url_or_engine, AsyncEngine):
        await _migrate(url_or_engine, revision)
        return
    engine = create_engine(url_or_engine)
    try:
        await _migrate(engine, revision)
    finally:
        await engine.dispose()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (``None`` when never migrated)."""
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


async def _migrate(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(_PG_MIGRATE_LOCK))
        await conn.run_sync(_upgrade, revision)


def _upgrade(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


def main(argv: list[str]) -> None:
    url = argv[0] if argv else os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("usage: python -m events.migrate [URL] [REVISION] (or set DATABASE_URL)")
    asyncio.run(migrate(url, argv[1] if len(argv) > 1 else "head"))


if __name__ == "__main__":
    main(sys.argv[1:])
