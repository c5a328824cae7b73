"""Running ``ladder`` as a user would, and looking at the database behind its back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from typer.testing import CliRunner

from api.cli.main import app
from events.db import create_engine, write_engine
from events.sql_store import SqlEventStore

T = TypeVar("T")


@dataclass(frozen=True)
class Ran:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def ladder(*args: str, env: Mapping[str, str] | None = None) -> Ran:
    """Run ``ladder ARGS`` in-process with Typer's runner (stdout and stderr apart)."""
    result = CliRunner().invoke(app, list(args), env=dict(env or {}), catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr)


def with_db(url: str, *args: str) -> Ran:
    return ladder(*args, "--database-url", url)


def on_db(url: str, job: Callable[[AsyncConnection], Awaitable[T]], *, write: bool = False) -> T:
    """Run ``job`` in one transaction on ``url`` (raw SQL, behind the store's back)."""

    async def main() -> T:
        engine = create_engine(url)
        try:
            async with (write_engine(engine) if write else engine).begin() as conn:
                return await job(conn)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def rows(url: str) -> list[dict[str, Any]]:
    """Every events row, in position order."""

    async def job(conn: AsyncConnection) -> list[dict[str, Any]]:
        result = await conn.execute(sa.text("SELECT * FROM events ORDER BY position"))
        return [dict(r._mapping) for r in result]

    return on_db(url, job)


def opened_data(url: str) -> dict[int, dict[str, Any]]:
    """Every event's data by position, as the store reads it: personal fields opened
    (stored sealed under random nonces, so the raw text differs between two logs)."""

    async def job(conn: AsyncConnection) -> dict[int, dict[str, Any]]:
        store = SqlEventStore(conn.engine)
        try:
            return {e.position: e.data for e in await store.read_all(0, 1_000_000)}
        finally:
            await store.close()

    return on_db(url, job)


def count(url: str) -> int:
    async def job(conn: AsyncConnection) -> int:
        return int(await conn.scalar(sa.text("SELECT count(*) FROM events")) or 0)

    return on_db(url, job)
