"""SQLite I/O for the store.

Appends run on one dedicated thread holding one ``sqlite3`` connection: the whole
``BEGIN IMMEDIATE`` ... ``COMMIT`` transaction is a single hop off the event loop.
Reads run on a few reader threads, each holding its own ``sqlite3`` connection: a page
is fetched and decoded in one hop, without a pool checkout or a reset-on-return
rollback (each another hop on aiosqlite). WAL: readers are never blocked by the writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from events.db import SQLITE_BUSY_TIMEOUT_MS
from events.encoding import PlannedAppend
from events.errors import DuplicateEventId
from events.merkle import CompactTree
from events.rows import NewRow, ReadQueries, build_rows, next_recorded_at
from events.tree import frontier, grow, row_leaves

_INSERT = (
    "INSERT INTO events (position, stream, version, event_id, type, schema_version, data, "
    "metadata, recorded_at, hash, prev_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT = (
    "SELECT position, stream, version, event_id, type, schema_version, data, metadata, "
    "recorded_at, hash, prev_hash FROM events"
)
_TYPES_FILTER = (
    " WHERE position > ? AND type IN (SELECT value FROM json_each(?)) ORDER BY position LIMIT ?"
)
READS = ReadQueries(
    read_stream=f"{_SELECT} WHERE stream = ? AND version >= ? AND version <= ? ORDER BY version",
    read_all=f"{_SELECT} WHERE position > ? ORDER BY position LIMIT ?",
    # types arrive as one JSON array, so the statement text never changes.
    read_all_types=_SELECT + _TYPES_FILTER,
)
_HEADS = (
    "SELECT (SELECT position FROM events ORDER BY position DESC LIMIT 1), "
    "(SELECT recorded_at FROM events ORDER BY position DESC LIMIT 1), "
    "(SELECT version FROM events WHERE stream = ?1 ORDER BY version DESC LIMIT 1), "
    "(SELECT hash FROM events WHERE stream = ?1 ORDER BY version DESC LIMIT 1)"
)
_STREAM_HEAD = "SELECT version, hash FROM events WHERE stream = ? ORDER BY version DESC LIMIT 1"
_KEY = "SELECT positions FROM idempotency_keys WHERE key = ?"
_INSERT_KEY = "INSERT INTO idempotency_keys (key, positions, recorded_at) VALUES (?, ?, ?)"
# The keys arrive as one JSON array of [level, idx] pairs, so the statement text never changes.
_NODES = (
    "SELECT level, idx, hash FROM merkle_nodes WHERE (level, idx) IN "
    "(SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))"
)
_INSERT_NODE = "INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)"


def sqlite_text(ts: datetime) -> str:
    """UTC time as SQLAlchemy's SQLite ``DateTime`` stores it (sortable text)."""
    return ts.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


_T = TypeVar("_T")
READER_THREADS = 4


def _database(engine: AsyncEngine) -> str:
    database = engine.url.database
    if not database:
        raise ValueError("SQLite store needs a database file")
    return database


class SqliteReader:
    """Read connections, one per reader thread, each used only from its own thread."""

    def __init__(self, engine: AsyncEngine, threads: int = READER_THREADS) -> None:
        self._path = _database(engine)
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="events-reader")
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # check_same_thread=False only so that close() can close it; it is used
            # from its own thread alone.
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    async def fetch(self, sql: str, params: Sequence[Any], decode: Callable[[list[Any]], _T]) -> _T:
        """``decode(rows)`` of the statement's rows, fetched and decoded off the loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._fetch, sql, params, decode)

    def _fetch(self, sql: str, params: Sequence[Any], decode: Callable[[list[Any]], _T]) -> _T:
        return decode(self._connection().execute(sql, params).fetchall())

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._executor.shutdown, True)
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()


def _grow_tree(conn: sqlite3.Connection, size: int, rows: Sequence[NewRow]) -> CompactTree:
    """Write the Merkle nodes ``rows`` complete (inside the append's transaction)."""
    keys = frontier(size)
    found = {}
    if keys:
        found = {(r[0], r[1]): r[2] for r in conn.execute(_NODES, (orjson.dumps(keys).decode(),))}
    tree, nodes = grow(size, found, row_leaves(rows))
    conn.executemany(_INSERT_NODE, nodes)
    return tree


class SqliteWriter:
    """The store's single writer connection, used only from its own thread."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._path = _database(engine)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="events-writer")
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        self.last_tree: CompactTree | None = None
        """The Merkle tree as the last committed append left it (its size and root are a
        true tree head of the log, whatever was appended since)."""

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=True)
            conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            self._conn = conn
        return self._conn

    async def append(
        self,
        plans: Sequence[PlannedAppend],
        meta: dict[str, str],
        meta_json: str,
        key: str | None,
        now: datetime,
    ) -> tuple[list[int], list[NewRow] | None]:
        """(positions, rows written) or, for a known idempotency key, (positions, None)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, self._append, plans, meta, meta_json, key, now
        )

    def _append(
        self,
        plans: Sequence[PlannedAppend],
        meta: dict[str, str],
        meta_json: str,
        key: str | None,
        now: datetime,
    ) -> tuple[list[int], list[NewRow] | None]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            if key is not None:
                known = conn.execute(_KEY, (key,)).fetchone()
                if known is not None:
                    conn.execute("ROLLBACK")
                    return orjson.loads(known[0]), None
            # The log's head and the first stream's head in one statement.
            last_position, last_ts, version, digest = conn.execute(
                _HEADS, (plans[0].stream,)
            ).fetchone()
            heads = [(version or 0, digest)]
            for plan in plans[1:]:
                heads.append(conn.execute(_STREAM_HEAD, (plan.stream,)).fetchone() or (0, None))
            recorded_at = next_recorded_at(
                now, None if last_ts is None else datetime.fromisoformat(last_ts + "+00:00")
            )
            rows = build_rows(plans, heads, last_position or 0, recorded_at, meta, meta_json)
            ts = sqlite_text(recorded_at)
            params = [
                (
                    r.position,
                    r.stream,
                    r.version,
                    r.event_id.hex,
                    r.type,
                    r.schema_version,
                    r.data,
                    r.metadata,
                    ts,
                    r.hash,
                    r.prev_hash,
                )
                for r in rows
            ]
            if len(params) == 1:
                conn.execute(_INSERT, params[0])
            else:
                conn.executemany(_INSERT, params)
            tree = _grow_tree(conn, last_position or 0, rows)
            positions = [r.position for r in rows]
            if key is not None:
                conn.execute(_INSERT_KEY, (key, orjson.dumps(positions).decode(), ts))
            conn.execute("COMMIT")
        except sqlite3.IntegrityError as exc:
            conn.execute("ROLLBACK")
            if "event_id" in str(exc):
                raise DuplicateEventId("an event id in this append is already recorded") from exc
            raise
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.last_tree = tree
        return positions, rows

    async def close(self) -> None:
        if self._closed:  # closing twice is harmless
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
