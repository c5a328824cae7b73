"""Read-model statements on SQLite in one thread hop.

Through aiosqlite a read costs a pool checkout, ``BEGIN``, the statement, the fetch and
the reset's ``ROLLBACK``: each a hop to aiosqlite's thread and back. Here a read runs on
a small pool of reader threads with a *synchronous* SQLAlchemy engine on the same file,
in autocommit (one ``SELECT`` is its own consistent snapshot in WAL mode): SQLAlchemy
still compiles (with its statement cache) and converts the values, and the event loop
waits for one hop. PostgreSQL reads stay on the async engine (asyncpg is async already), in
autocommit: one round trip per statement.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from events.db import SQLITE_BUSY_TIMEOUT_MS, is_sqlite

READER_THREADS = 4


class _Readers:
    def __init__(self, engine: AsyncEngine) -> None:
        url = engine.url.set(drivername="sqlite+pysqlite")
        self.sync: Engine = sa.create_engine(
            url, pool_size=READER_THREADS, max_overflow=0, connect_args={"check_same_thread": False}
        )

        @event.listens_for(self.sync, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # autocommit: no BEGIN, no ROLLBACK
            dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")

        self.executor = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="readmodel-reader")
        self._local = threading.local()

    def rows(
        self, query: sa.Executable, params: Mapping[str, Any] | None
    ) -> list[Mapping[str, Any]]:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self.sync.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            )
        return _dicts(conn.execute(query, params))

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.sync.dispose()


def _dicts(result: sa.CursorResult[Any]) -> list[Mapping[str, Any]]:
    """The rows as dicts: zipped with the keys, a third of the cost of ``Row._mapping``."""
    keys = tuple(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


_readers: WeakKeyDictionary[AsyncEngine, _Readers] = WeakKeyDictionary()
_lock = threading.Lock()


async def fetch_rows(
    engine: AsyncEngine, query: sa.Executable, params: Mapping[str, Any] | None = None
) -> list[Mapping[str, Any]]:
    """The rows of one read statement: one thread hop on SQLite, asyncpg on PostgreSQL.

    ``params`` bind the statement's ``bindparam``s: a statement built once per process
    with them skips SQLAlchemy's construction and cache-key work on every request."""
    if not is_sqlite(engine):
        async with _autocommit(engine).connect() as conn:
            return _dicts(await conn.execute(query, params))
    readers = _readers.get(engine)
    if readers is None:
        with _lock:
            readers = _readers.get(engine)
            if readers is None:
                readers = _readers[engine] = _Readers(engine)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(readers.executor, readers.rows, query, params)


_autocommitting: WeakKeyDictionary[AsyncEngine, AsyncEngine] = WeakKeyDictionary()


def _autocommit(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` (its pool) with connections in autocommit: one read statement is one
    round trip, without the ``BEGIN`` before it and the ``ROLLBACK`` when the connection
    goes back to the pool (one statement is its own snapshot either way)."""
    found = _autocommitting.get(engine)
    if found is None:
        found = _autocommitting[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return found


def close_readers(engine: AsyncEngine) -> None:
    """Stop ``engine``'s reader threads (when the engine is disposed)."""
    readers = _readers.pop(engine, None)
    if readers is not None:
        readers.close()
