"""SQLite I/O for the store.

Appends run on one dedicated thread holding one ``sqlite3`` connection: the whole
``BEGIN IMMEDIATE`` ... ``COMMIT`` transaction is a single hop off the event loop.
Reads run on a few reader threads, each holding its own ``sqlite3`` connection: a page
is fetched and decoded in one hop, without a pool checkout or a reset-on-return
rollback (each another hop on aiosqlite). WAL: readers are never blocked by the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from events.conditions import AppendCondition
from events.db import SQLITE_BUSY_TIMEOUT_MS
from events.encoding import PlannedAppend
from events.errors import DuplicateEventId
from events.merkle import CompactTree
from events.port import RecordedEvent
from events.rows import (
    INSERT_EVENTS,
    SELECT_EVENTS,
    SQLITE_BINDS,
    EventReadSql,
    NewRow,
    build_rows,
    next_recorded_at,
)
from events.settle import Outcome, settle
from events.tree import Node, frontier, grow, row_leaves

_INSERT = f"{INSERT_EVENTS} VALUES ({SQLITE_BINDS})"
_TYPES_FILTER = (
    " WHERE position > ? AND type IN (SELECT value FROM json_each(?)) ORDER BY position LIMIT ?"
)
READS = EventReadSql(
    read_stream=(
        f"{SELECT_EVENTS} WHERE stream = ? AND version >= ? AND version <= ? ORDER BY version"
    ),
    read_all=f"{SELECT_EVENTS} WHERE position > ? ORDER BY position LIMIT ?",
    # types arrive as one JSON array, so the statement text never changes.
    read_all_types=SELECT_EVENTS + _TYPES_FILTER,
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
log = logging.getLogger(__name__)
READER_THREADS = 4


def _database(engine: AsyncEngine) -> str:
    database = engine.url.database
    if not database:
        raise ValueError("SQLite store needs a database file")
    return database


class _Read(NamedTuple):
    sql: str
    params: Sequence[Any]
    decode: Callable[[list[Any]], Any]
    future: asyncio.Future[Any]


class SqliteReader:
    """Read connections, one per reader thread, each used only from its own thread.

    The reads asked for in one turn of the event loop go to a reader thread together (a
    command's stream and its ladder check; the reads of concurrent requests) and come
    back together: one thread hop and one wake-up of the loop for all of them, not one
    each. Each read keeps its own outcome (a failing statement fails only its read)."""

    def __init__(self, engine: AsyncEngine, threads: int = READER_THREADS) -> None:
        self._path = _database(engine)
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="events-reader")
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        self._queued: dict[asyncio.AbstractEventLoop, list[_Read]] = {}

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
        future: asyncio.Future[_T] = loop.create_future()
        queued = self._queued.get(loop)
        if queued is None:
            queued = self._queued[loop] = []
            loop.call_soon(self._submit, loop)
        queued.append(_Read(sql, params, decode, future))
        return await future

    def fetch_now(self, sql: str, params: Sequence[Any], decode: Callable[[list[Any]], _T]) -> _T:
        """``fetch`` on the caller's thread, on its own connection: for an index lookup of
        a few rows (one stream, one key), which costs less than the hop to a reader
        thread and back. Anything that may scan goes through ``fetch``."""
        return decode(self._connection().execute(sql, params).fetchall())

    def _submit(self, loop: asyncio.AbstractEventLoop) -> None:
        reads = self._queued.pop(loop, [])
        try:
            self._executor.submit(self._fetch_all, loop, reads)
        except RuntimeError as exc:  # closed
            settle([(r.future, None, exc) for r in reads])

    def _fetch_all(self, loop: asyncio.AbstractEventLoop, reads: list[_Read]) -> None:
        outcomes: list[Outcome] = []
        for read in reads:
            try:
                rows = self._connection().execute(read.sql, read.params).fetchall()
                outcomes.append((read.future, read.decode(rows), None))
            except Exception as exc:
                outcomes.append((read.future, None, exc))
        # A caller whose loop is closed (Ctrl-C) waits for nothing any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, outcomes)

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


def _stored_tree(conn: sqlite3.Connection, size: int, pending: Sequence[Node] = ()) -> CompactTree:
    """The tree of the log's first ``size`` events from its stored frontier nodes (and
    ``pending``: nodes of this transaction not written yet)."""
    keys = frontier(size)
    found = {}
    if keys:
        found = {(r[0], r[1]): r[2] for r in conn.execute(_NODES, (orjson.dumps(keys).decode(),))}
        found.update(((level, idx), digest) for level, idx, digest in pending)
    tree, _ = grow(size, found, ())
    return tree


BeforeCommit = Callable[[sqlite3.Connection, Sequence[RecordedEvent]], bool]
"""Run in the writer thread with the append's events before its ``COMMIT`` (the inline
projection, ``events.inline``); True when it wrote what it had to."""


class _Job(NamedTuple):
    args: tuple[
        Sequence[PlannedAppend],
        dict[str, str],
        str,
        str | None,
        datetime,
        Sequence[AppendCondition],
    ]
    future: asyncio.Future[Written]
    loop: asyncio.AbstractEventLoop


Written = tuple[list[int], list[RecordedEvent] | None, bool, CompactTree | None]
"""(positions, events written, whether ``before_commit`` projected them, the Merkle tree
the append left) or, for a known idempotency key, (positions, None, False, None)."""


class SqliteWriter:
    """The store's single writer connection, used only from its own thread.

    Group commit: appends queue up while the thread is busy, and the thread writes all
    the queued ones in ONE transaction, each under its own savepoint, so they share one
    fsync. An append that fails (a version conflict, a duplicate event id) is rolled back
    to its savepoint and fails alone; its neighbours commit. Positions stay gap-free and
    in commit order: the batch is written in queue order, within one transaction.
    """

    MAX_BATCH = 256

    def __init__(self, engine: AsyncEngine) -> None:
        self.before_commit: BeforeCommit | None = None
        self._path = _database(engine)
        self._conn: sqlite3.Connection | None = None
        self._jobs: deque[_Job | None] = deque()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.commits = 0
        """Transactions committed (fewer than appends when they were grouped)."""
        self.durable = True
        """``synchronous = FULL``: every commit waits for the disk. ``False`` is ``NORMAL``
        (from the next batch on): a commit survives the process, not a power cut."""
        self._durable = True
        self.synchronous = 2
        """The writer connection's ``PRAGMA synchronous`` as SQLite reports it (2 FULL,
        1 NORMAL)."""
        self.last_tree: CompactTree | None = None
        """The Merkle tree as the last committed append left it (its size and root are a
        true tree head of the log, whatever was appended since)."""
        self._tree: CompactTree | None = None
        """The tree after this thread's last append, committed or in the open batch."""
        self._nodes: list[Node] = []
        """The Merkle nodes of the open batch's appends, not written yet."""

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=True)
            conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA secure_delete = ON")  # freed bytes zeroed (erasure)
            self._conn = conn
            self._durable = True
            self.synchronous = int(conn.execute("PRAGMA synchronous").fetchone()[0])
        if self._durable != self.durable:
            self._conn.execute(f"PRAGMA synchronous = {'FULL' if self.durable else 'NORMAL'}")
            self._durable = self.durable
            self.synchronous = int(self._conn.execute("PRAGMA synchronous").fetchone()[0])
        return self._conn

    async def append(
        self,
        plans: Sequence[PlannedAppend],
        meta: dict[str, str],
        meta_json: str,
        key: str | None,
        now: datetime,
        conditions: Sequence[AppendCondition] = (),
    ) -> Written:
        """Queue one append for the writer thread; its result once its batch committed."""
        if self._closed:
            raise RuntimeError("the SQLite writer is closed")
        loop = asyncio.get_running_loop()
        job = _Job((plans, meta, meta_json, key, now, conditions), loop.create_future(), loop)
        with self._ready:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="events-writer", daemon=True)
                self._thread.start()
            self._jobs.append(job)
            self._ready.notify()
        return await job.future

    def _run(self) -> None:
        try:
            while True:
                with self._ready:
                    while not self._jobs:
                        self._ready.wait()
                    batch: list[_Job] = []
                    stop = False
                    while self._jobs and len(batch) < self.MAX_BATCH:
                        job = self._jobs.popleft()
                        if job is None:
                            stop = True
                            break
                        batch.append(job)
                if batch:
                    self._write(batch)
                if stop:
                    return
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _write(self, batch: list[_Job]) -> None:
        conn = self._connection()
        outcomes: list[tuple[_Job, Written | None, BaseException | None]] = []
        # The Merkle nodes of the batch's appends, written together before the COMMIT
        # (a failed append adds none: its tree is dropped with it).
        self._nodes = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in batch:
                conn.execute("SAVEPOINT one_append")
                try:
                    done, nodes = self._append(conn, *job.args)
                except Exception as exc:
                    conn.execute("ROLLBACK TO one_append")
                    conn.execute("RELEASE one_append")
                    outcomes.append((job, None, exc))
                    continue
                conn.execute("RELEASE one_append")
                if done[3] is not None:
                    self._tree = done[3]
                    self._nodes.extend(nodes)
                outcomes.append((job, done, None))
            if self._nodes:
                conn.executemany(_INSERT_NODE, self._nodes)
            outcomes = self._project(conn, outcomes)
            conn.execute("COMMIT")
            self.commits += 1
            trees = [d[3] for _, d, _ in outcomes if d is not None and d[3] is not None]
            if trees:
                self.last_tree = trees[-1]
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._tree = None
            self._nodes = []
            outcomes = [(job, None, exc) for job in batch]
        # One wake-up of each caller's loop for the whole batch, not one per append.
        by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
        for job, written, error in outcomes:
            by_loop.setdefault(job.loop, []).append((job.future, written, error))
        for loop, settled in by_loop.items():
            # A caller whose loop is closed (Ctrl-C) waits for nothing any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, settled)

    def _project(
        self,
        conn: sqlite3.Connection,
        outcomes: list[tuple[_Job, Written | None, BaseException | None]],
    ) -> list[tuple[_Job, Written | None, BaseException | None]]:
        """``before_commit`` once for the whole batch: the events its appends wrote are
        contiguous in the log (a failed append wrote nothing), so the read models take
        them in one pass and their checkpoints move once."""
        recorded = [e for _, d, _ in outcomes if d is not None and d[1] for e in d[1]]
        if self.before_commit is None or not recorded:
            return outcomes
        try:
            projected = self.before_commit(conn, recorded)
        except Exception:  # the append stands; the projector's catch-up applies them
            log.warning("inline projection failed; the catch-up applies it", exc_info=True)
            projected = False
        if not projected:
            return outcomes
        return [
            (job, (d[0], d[1], True, d[3]) if d is not None and d[1] is not None else d, e)
            for job, d, e in outcomes
        ]

    def _append(
        self,
        conn: sqlite3.Connection,
        plans: Sequence[PlannedAppend],
        meta: dict[str, str],
        meta_json: str,
        key: str | None,
        now: datetime,
        conditions: Sequence[AppendCondition],
    ) -> tuple[Written, list[Node]]:
        """What the append wrote, and the Merkle nodes it completes (the caller writes
        them with the batch's)."""
        if key is not None:
            known = conn.execute(_KEY, (key,)).fetchone()
            if known is not None:
                return (orjson.loads(known[0]), None, False, None), []
        for condition in conditions:  # under the write lock: nothing can slip in after
            condition.check_sqlite(conn)
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
        try:
            if len(params) == 1:
                conn.execute(_INSERT, params[0])
            else:
                conn.executemany(_INSERT, params)
        except sqlite3.IntegrityError as exc:
            if "event_id" in str(exc):
                raise DuplicateEventId("an event id in this append is already recorded") from exc
            raise
        tree, nodes = self._grow(conn, last_position or 0, rows)
        positions = [r.position for r in rows]
        if key is not None:
            conn.execute(_INSERT_KEY, (key, orjson.dumps(positions).decode(), ts))
        return (positions, [r.recorded() for r in rows], False, tree), nodes

    def _grow(
        self, conn: sqlite3.Connection, size: int, rows: Sequence[NewRow]
    ) -> tuple[CompactTree, list[Node]]:
        """The tree after ``rows`` and the Merkle nodes they complete. The frontier is the
        tree this thread's last append left when the log has not moved since (the log is
        append-only and gap-free, so the same size is the same tree), else read from the
        stored nodes and the batch's unwritten ones."""
        last = self._tree
        if last is None or last.size != size:
            tree = _stored_tree(conn, size, self._nodes)
        else:
            tree = last.copy()
        return tree, [n for leaf in row_leaves(rows) for n in tree.append(leaf)]

    async def close(self) -> None:
        """Write what is queued, then stop the thread (it closes its connection)."""
        if self._closed:  # closing twice is harmless
            return
        self._closed = True
        with self._ready:
            thread = self._thread
            self._jobs.append(None)
            self._ready.notify()
        if thread is not None:
            await asyncio.get_running_loop().run_in_executor(None, thread.join)
