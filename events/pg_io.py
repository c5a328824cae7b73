"""PostgreSQL I/O for the store, on the asyncpg connection under SQLAlchemy's pool.

An append is ``BEGIN`` with the advisory lock, its conditions (``events.conditions``: a
new person's key, an email still free), the heads (with the Merkle tree's frontier), the
insert (the rows and the Merkle nodes they complete), and ``COMMIT``. The
transaction-scoped advisory lock (one per schema) serializes appends, so
``max(position) + 1`` is gap-free and in commit order. Group commit
(``PgAppender.write``): appends that queue while a batch commits are written together in
the next transaction, one ``BEGIN``, lock and ``COMMIT`` for all of them, and
``before_commit`` (the inline projection) runs once for all their events.

``PgAppender`` remembers the heads its appends left (the log's last position and time,
its Merkle frontier, each stream's last version and hash), so without ``before_commit``
a single event appended after them is one round trip: one statement, its own
transaction, that takes the same advisory lock and inserts the row built from the
remembered heads and the Merkle nodes it completes. If another process appended since,
the remembered heads are stale and the insert collides with the unique position or
(stream, version) of the row that process wrote; the store then forgets its heads and
takes the locked path. A stale head can never insert: the log and every stream are
contiguous and append-only, so the slot after a stale head is always taken.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from events.conditions import AppendCondition
from events.encoding import PlannedAppend
from events.errors import DuplicateEventId, WrongExpectedVersion
from events.merkle import CompactTree
from events.port import ANY, RecordedEvent
from events.rows import (
    INSERT_EVENTS,
    SELECT_EVENTS,
    EventReadSql,
    NewRow,
    build_rows,
    next_recorded_at,
    pg_binds,
)
from events.settle import Outcome, settle
from events.tree import frontier, grow, row_leaf, row_leaves

_T = TypeVar("_T")
BEGIN_LOCKED = "BEGIN; SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.events'))"
# The rows of an append and the Merkle nodes they complete, in one statement.
_INSERT = (
    f"WITH ev AS ({INSERT_EVENTS} SELECT * FROM unnest({pg_binds(arrays=True)})) "  # noqa: S608
    "INSERT INTO merkle_nodes (level, idx, hash) "
    "SELECT * FROM unnest($12::integer[], $13::bigint[], $14::bytea[])"
)
READS = EventReadSql(
    read_stream=(
        f"{SELECT_EVENTS} WHERE stream = $1 AND version >= $2 AND version <= $3 ORDER BY version"
    ),
    read_all=f"{SELECT_EVENTS} WHERE position > $1 ORDER BY position LIMIT $2",
    read_all_types=(
        f"{SELECT_EVENTS} WHERE position > $1 AND type = ANY($2) ORDER BY position LIMIT $3"
    ),
)
# The log's head, its Merkle frontier (the hashes of ``range_nodes(0, size)``: node
# ``(level, (size >> level) - 1)`` for each bit of the size, highest level first) and
# the first stream's head, in one round trip.
_HEADS = (
    "SELECT g.position, g.recorded_at, s.version, s.hash, "
    "(SELECT array_agg(m.hash ORDER BY m.level DESC) FROM generate_series(0, 62) AS l(level) "
    "JOIN merkle_nodes m ON m.level = l.level AND m.idx = (g.position >> l.level) - 1 "
    "WHERE (g.position >> l.level) & 1 = 1) FROM (SELECT 1) AS o "
    "LEFT JOIN (SELECT position, recorded_at FROM events ORDER BY position DESC LIMIT 1) AS g "
    "ON true LEFT JOIN (SELECT version, hash FROM events WHERE stream = $1 "
    "ORDER BY version DESC LIMIT 1) AS s ON true"
)
_REMEMBERED_STREAMS = 10_000
_STREAM_HEAD = "SELECT version, hash FROM events WHERE stream = $1 ORDER BY version DESC LIMIT 1"
_KEY = "SELECT positions FROM idempotency_keys WHERE key = $1"
_INSERT_KEY = "INSERT INTO idempotency_keys (key, positions, recorded_at) VALUES ($1, $2, $3)"
# The one-round-trip append also writes the Merkle nodes its event completes; they are
# inserted only when the event row is (the join on ``ev``), under the same lock.
_INSERT_LOCKED_WITH_NODES = (
    "WITH lock AS (SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.events'))), "  # noqa: S608
    f"ev AS ({INSERT_EVENTS} SELECT {pg_binds(arrays=False)} FROM lock RETURNING position) "
    "INSERT INTO merkle_nodes (level, idx, hash) SELECT n.level, n.idx, n.hash FROM ev, "
    "unnest($12::integer[], $13::bigint[], $14::bytea[]) AS n(level, idx, hash)"
)


PgBeforeCommit = Callable[[Any, Sequence[RecordedEvent]], Awaitable[bool]]
"""Awaited on the append's asyncpg connection with its events before ``COMMIT``."""
Locked = tuple[list[int], list[RecordedEvent] | None, CompactTree | None, bool]
"""(positions, events written, the Merkle tree after them, whether ``before_commit``
projected them); events and tree ``None`` for a known idempotency key."""
Written = tuple[list[int], list[RecordedEvent] | None, bool, CompactTree | None]
"""What ``PgAppender.write`` answers: (positions, events written or ``None`` for a known
idempotency key, whether ``before_commit`` projected them (those very objects), the tree
after them)."""
Args = tuple[
    Sequence[PlannedAppend],
    dict[str, str],
    str,
    str | None,
    datetime,
    Sequence[AppendCondition],
]
Job = tuple[Args, Any]


class PgReader:
    """Reads on a pooled connection. The reads asked for in one turn of the event loop
    share one connection checkout (a command's stream and its ladder check; the reads of
    concurrent requests), run one after another on it; each keeps its own outcome."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._queued: list[tuple[str, Sequence[Any], Callable[[list[Any]], Any], Any]] = []
        self._running: set[asyncio.Task[None]] = set()

    async def fetch(self, sql: str, params: Sequence[Any], decode: Callable[[list[Any]], _T]) -> _T:
        """``decode(rows)`` of the statement's rows (asyncpg ``Record``s)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        if not self._queued:
            loop.call_soon(self._submit)
        self._queued.append((sql, params, decode, future))
        return await future

    def _submit(self) -> None:
        reads, self._queued = self._queued, []
        task = asyncio.get_running_loop().create_task(self._fetch_all(reads))
        self._running.add(task)  # held until done (the loop keeps only weak references)
        task.add_done_callback(self._running.discard)

    async def _fetch_all(
        self, reads: list[tuple[str, Sequence[Any], Callable[[list[Any]], Any], Any]]
    ) -> None:
        outcomes: list[Outcome] = []
        try:
            async with self._engine.connect() as conn:
                raw: Any = (await conn.get_raw_connection()).driver_connection
                for sql, params, decode, future in reads:
                    if future.done():  # the caller gave up waiting
                        continue
                    try:
                        outcomes.append((future, decode(list(await raw.fetch(sql, *params))), None))
                    except Exception as exc:
                        outcomes.append((future, None, exc))
        except BaseException as exc:
            outcomes = [(future, None, exc) for *_, future in reads]
            if not isinstance(exc, Exception):
                settle(outcomes)
                raise
        # Settled once the connection is back in the pool: a caller that disposes of the
        # engine next finds it there.
        settle(outcomes)


async def append(
    conn: Any,
    plans: Sequence[PlannedAppend],
    meta: dict[str, str],
    meta_json: str,
    key: str | None,
    now: datetime,
    before_commit: PgBeforeCommit | None = None,
    conditions: Sequence[AppendCondition] = (),
) -> Locked:
    """(positions, events written, the Merkle tree's frontier after them, whether
    ``before_commit`` projected them) or, for a known idempotency key, (positions, None,
    None, False): one append in its own transaction."""
    await conn.execute(BEGIN_LOCKED)
    try:
        done = await append_locked(conn, plans, meta, meta_json, key, now, conditions)
        if done[1] is not None and before_commit is not None:
            done = (done[0], done[1], done[2], await _project(before_commit, conn, done[1]))
        await conn.execute("ROLLBACK" if done[1] is None else "COMMIT")
    except Refused as refused:
        await _abandon(conn)
        raise refused.reason from None
    except BaseException:
        await _abandon(conn)
        raise
    return done


class Refused(Exception):
    """An append's condition refused it before it wrote anything (the transaction is
    intact, so a shared one goes on with the other appends): ``reason`` says why."""

    def __init__(self, reason: Exception) -> None:
        super().__init__(str(reason))
        self.reason = reason


async def append_locked(
    conn: Any,
    plans: Sequence[PlannedAppend],
    meta: dict[str, str],
    meta_json: str,
    key: str | None,
    now: datetime,
    conditions: Sequence[AppendCondition] = (),
) -> Locked:
    """``append``'s work in ``conn``'s open transaction, which holds the advisory lock:
    the idempotency key, the heads (read in the transaction, so they include the appends
    it already holds), the expected versions, the rows and nodes. The caller runs
    ``before_commit`` (once for all the appends of its transaction)."""
    if key is not None:
        known = await conn.fetchval(_KEY, key)
        if known is not None:
            return orjson.loads(known), None, None, False
    for condition in conditions:  # under the advisory lock: nothing can slip in after
        try:
            await condition.check_postgres(conn)
        except Exception as exc:
            raise Refused(exc) from exc
    first = await conn.fetchrow(_HEADS, plans[0].stream)
    heads: list[tuple[int, str | None]] = [(first[2] or 0, first[3])]
    for plan in plans[1:]:
        head = await conn.fetchrow(_STREAM_HEAD, plan.stream)
        heads.append((0, None) if head is None else (head[0], head[1]))
    recorded_at = next_recorded_at(now, first[1])
    rows = build_rows(plans, heads, first[0] or 0, recorded_at, meta, meta_json)
    size = first[0] or 0
    keys = frontier(size)
    stored = first[4] or []
    found = dict(zip(keys, stored, strict=True)) if len(stored) == len(keys) else {}
    tree, nodes = grow(size, found, row_leaves(rows))
    columns = [list(c) for c in zip(*rows, strict=True)]  # NewRow is in column order
    try:
        await conn.execute(_INSERT, *columns, *[list(c) for c in zip(*nodes, strict=True)])
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "uq_events_event_id":
            raise DuplicateEventId("an event id in this append is already recorded") from exc
        raise
    positions = [r.position for r in rows]
    if key is not None:
        await conn.execute(_INSERT_KEY, key, orjson.dumps(positions).decode(), recorded_at)
    return positions, [r.recorded() for r in rows], tree, False


async def _project(
    before_commit: PgBeforeCommit, conn: Any, events: Sequence[RecordedEvent]
) -> bool:
    """``before_commit`` on the events a transaction wrote (contiguous in the log: a
    refused append wrote nothing); False when it could not (the catch-up applies them)."""
    if not events:
        return False
    return await before_commit(conn, events)


async def _abandon(conn: Any) -> None:
    """Roll back; a connection that cannot (cancelled mid-query) is closed instead."""
    try:
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")
    except Exception:
        conn.terminate()


class PgAppender:
    """Appends on PostgreSQL, remembering the heads its own appends left (see module doc)."""

    MAX_BATCH = 256

    def __init__(self) -> None:
        self._log: tuple[int, datetime, CompactTree] | None = None
        self._streams: dict[str, tuple[int, str]] = {}
        self.before_commit: PgBeforeCommit | None = None
        """Run with each append's events before its ``COMMIT`` (``events.inline``)."""
        self._jobs: deque[Job] = deque()
        self._drainer: asyncio.Task[None] | None = None
        self.commits = 0
        """Transactions committed by ``write`` (fewer than appends when grouped)."""

    async def write(
        self,
        engine: AsyncEngine,
        plans: Sequence[PlannedAppend],
        meta: dict[str, str],
        meta_json: str,
        key: str | None,
        now: datetime,
        conditions: Sequence[AppendCondition] = (),
    ) -> Written:
        """Group commit: queue the append; one task writes the queued appends in ONE
        transaction (one advisory lock, one ``COMMIT``), in queue order, so positions stay
        gap-free and in commit order. Each append keeps its own checks: a version conflict
        is found before it writes anything and fails it alone; any later failure (a
        duplicate event id) aborts the transaction, and the batch is then written again
        one append per transaction, so only the one at fault fails. A lone append is
        written as ``append`` writes it."""
        future: asyncio.Future[Written] = asyncio.get_running_loop().create_future()
        self._jobs.append(((plans, meta, meta_json, key, now, conditions), future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain(engine))
        return await future

    async def _drain(self, engine: AsyncEngine) -> None:
        while self._jobs:
            batch: list[Job] = []
            while self._jobs and len(batch) < self.MAX_BATCH:
                job = self._jobs.popleft()
                if not job[1].done():  # a caller that gave up (cancelled) never started
                    batch.append(job)
            if not batch:
                continue
            try:
                async with engine.connect() as conn:
                    raw = (await conn.get_raw_connection()).driver_connection
                    outcomes = await self._write_batch(raw, batch)
            except BaseException as exc:
                self.forget()
                for _, future in batch:
                    _settle(future, None, exc)
                if not isinstance(exc, Exception):
                    for _, future in self._jobs:
                        _settle(future, None, exc)
                    self._jobs.clear()
                    raise
                continue
            for (_, future), (written, error) in zip(batch, outcomes, strict=True):
                _settle(future, written, error)

    async def _write_batch(
        self, conn: Any, batch: list[Job]
    ) -> list[tuple[Written | None, BaseException | None]]:
        if len(batch) == 1:
            return [await self._alone(conn, batch[0][0])]
        outcomes: list[tuple[Locked | None, BaseException | None]] = []
        await conn.execute(BEGIN_LOCKED)
        try:
            for args, _ in batch:
                try:
                    plans, meta, meta_json, key, now, conditions = args
                    done = await append_locked(conn, plans, meta, meta_json, key, now, conditions)
                except WrongExpectedVersion as exc:
                    # Found before this append wrote anything: the transaction is intact.
                    outcomes.append((None, exc))
                    continue
                except Refused as refused:  # likewise
                    outcomes.append((None, refused.reason))
                    continue
                outcomes.append((done, None))
            if self.before_commit is not None:
                written = [r for done, _ in outcomes if done is not None for r in done[1] or ()]
                if await _project(self.before_commit, conn, written):
                    outcomes = [
                        ((d[0], d[1], d[2], True) if d is not None and d[1] else d, e)
                        for d, e in outcomes
                    ]
            await conn.execute("COMMIT")
        except Exception:
            # Something failed past its checks (a duplicate event id...), which aborts the
            # transaction: nothing of the batch was written. Write each append on its own,
            # in queue order, so that only the one at fault fails.
            await _abandon(conn)
            return [await self._alone(conn, args) for args, _ in batch]
        except BaseException:
            await _abandon(conn)
            raise
        self.commits += 1
        answers: list[tuple[Written | None, BaseException | None]] = []
        for outcome, error in outcomes:
            if outcome is None:
                answers.append((None, error))
                continue
            positions, rows, tree, projected = outcome
            if rows is not None and tree is not None:
                self._remember(rows, tree)
            answers.append(((positions, rows, projected, tree), None))
        return answers

    async def _alone(self, conn: Any, args: Args) -> tuple[Written | None, BaseException | None]:
        try:
            written = await self.append(conn, *args)
        except Exception as exc:
            return None, exc
        self.commits += 1
        return written, None

    async def append(
        self,
        conn: Any,
        plans: Sequence[PlannedAppend],
        meta: dict[str, str],
        meta_json: str,
        key: str | None,
        now: datetime,
        conditions: Sequence[AppendCondition] = (),
    ) -> Written:
        """(positions, rows written, whether ``before_commit`` projected them, the tree
        after them) or, for a known idempotency key, (positions, None, False, None). With
        ``before_commit`` every append takes the transaction (the read models are written
        in it, which costs less than the second transaction the one-round-trip append
        leaves to the catch-up)."""
        one = key is None and not conditions and len(plans) == 1 and len(plans[0].events) == 1
        if one and self.before_commit is None:
            row = await self._append_one(conn, plans[0], meta, meta_json, now)
            if row is not None:
                return [row.position], [row.recorded()], False, self.last_tree
        try:
            positions, rows, tree, projected = await append(
                conn, plans, meta, meta_json, key, now, self.before_commit, conditions
            )
        except BaseException:
            self.forget()
            raise
        if rows is not None and tree is not None:
            self._remember(rows, tree)
        return positions, rows, projected, tree

    @property
    def last_tree(self) -> CompactTree | None:
        """The Merkle tree as this appender's last append left it (a true tree head)."""
        return None if self._log is None else self._log[2]

    def forget(self) -> None:
        self._log = None
        self._streams.clear()

    def _remember(self, rows: Sequence[NewRow | RecordedEvent], tree: CompactTree) -> None:
        last = rows[-1]
        self._log = (last.position, last.recorded_at, tree)
        if len(self._streams) >= _REMEMBERED_STREAMS:
            self._streams.clear()
        for r in rows:
            self._streams[r.stream] = (r.version, r.hash)

    async def _append_one(
        self, conn: Any, plan: PlannedAppend, meta: dict[str, str], meta_json: str, now: datetime
    ) -> NewRow | None:
        """The one-round-trip append, or None when the remembered heads may not hold."""
        head = self._streams.get(plan.stream)
        if self._log is None or head is None or conn.is_in_transaction():
            return None
        expected = plan.expected_version
        if expected != ANY and expected != head[0]:
            return None  # the locked path reports the actual version
        last_position, last_time, remembered = self._log
        rows = build_rows(
            [plan], [head], last_position, next_recorded_at(now, last_time), meta, meta_json
        )
        tree = remembered.copy()
        levels, idxs, hashes = zip(*tree.append(row_leaf(rows[0])), strict=True)
        try:
            await conn.execute(
                _INSERT_LOCKED_WITH_NODES, *rows[0], list(levels), list(idxs), list(hashes)
            )
        except asyncpg.UniqueViolationError:
            self.forget()  # another writer moved a head: take the locked path
            return None
        except BaseException:
            self.forget()
            raise
        self._remember(rows, tree)
        return rows[0]


def _settle(
    future: asyncio.Future[Written], written: Written | None, error: BaseException | None
) -> None:
    if future.done():  # the caller gave up waiting
        return
    if isinstance(error, asyncio.CancelledError):
        future.cancel()
    elif error is not None:
        future.set_exception(error)
    elif written is not None:
        future.set_result(written)
