"""Point reads on PostgreSQL through a small asyncpg pool of their own.

Through SQLAlchemy's async engine a read costs a pool checkout, a greenlet switch per
driver call and the result's wrapping: several times the round trip itself for an index
lookup of a row (a person by id, a track's ladder version, a stream's version). Those
reads go to a pool of plain asyncpg connections opened with the engine's own connection
settings (``events.db.pg_connect_kwargs``: host, database, ``search_path``...), in
autocommit like every read-model statement. Everything else stays on the engine.

A pool belongs to the event loop that opened it; on another loop (or for an engine
made outside ``events.db``) the caller's usual path answers (``None`` here).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from weakref import WeakKeyDictionary

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from events.db import pg_connect_kwargs

POINT_READERS = 4
"""Connections in a point-read pool (each lookup holds one for one round trip)."""


class _Pool:
    def __init__(self, connect: dict[str, Any]) -> None:
        self.connect = connect
        self.loop = asyncio.get_running_loop()
        self.pool: Any = None
        self.lock = asyncio.Lock()

    async def get(self) -> Any:
        if self.pool is None:
            async with self.lock:
                if self.pool is None:
                    self.pool = await asyncpg.create_pool(
                        **self.connect, min_size=1, max_size=POINT_READERS, reset=_keep
                    )
        return self.pool


async def _keep(_conn: Any) -> None:
    """Nothing to reset when a connection goes back: it only ever ran single-statement
    reads in autocommit (asyncpg's default reset is a round trip per release)."""


_pools: WeakKeyDictionary[AsyncEngine, _Pool] = WeakKeyDictionary()


async def pg_point_rows(
    engine: AsyncEngine, sql: str, args: Sequence[Any], *, types: bool = False
) -> tuple[list[Any], tuple[int, ...] | None] | None:
    """The records of one index lookup (``$1``-style ``sql``) and, when asked, their
    columns' type oids; ``None`` when this engine has no point-read pool on the running
    loop. The statement is prepared once per connection (asyncpg's statement cache)."""
    found = _pools.get(engine)
    if found is None:
        connect = pg_connect_kwargs(engine)
        if connect is None:
            return None
        found = _pools[engine] = _Pool(connect)
        # Closed with the engine, whoever disposes of it.
        event.listen(engine.sync_engine, "engine_disposed", lambda _e: _terminate(found))
    if found.loop is not asyncio.get_running_loop():
        return None
    pool = await found.get()
    async with pool.acquire() as conn:
        if types:
            statement = await conn.prepare(sql)
            records = await statement.fetch(*args)
            return list(records), tuple(a.type.oid for a in statement.get_attributes())
        return list(await conn.fetch(sql, *args)), None


def _terminate(found: _Pool) -> None:
    """Close a point-read pool's connections (its engine was disposed)."""
    pool, found.pool = found.pool, None
    if pool is not None:
        pool.terminate()
