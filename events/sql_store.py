"""``SqlEventStore``: the event log on SQLite or PostgreSQL through SQLAlchemy's asyncio API.

Appends are serialized: an in-process ``asyncio.Lock`` plus, across processes,
SQLite's ``BEGIN IMMEDIATE`` write lock or a PostgreSQL transaction-scoped advisory
lock. Under that lock the next position is ``max(position) + 1``, so positions are
gap-free and follow commit order; a reader tailing ``read_all`` never skips one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import URL, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.db import create_engine, is_sqlite, write_engine
from events.encoding import PlannedAppend, check_stream, encode_metadata, plan_appends
from events.errors import DuplicateEventId, StoreError, WrongExpectedVersion
from events.hashing import canonical, chain_hash
from events.port import (
    ANY,
    NO_STREAM,
    ExpectedVersion,
    Metadata,
    NewEvent,
    RecordedEvent,
    StreamAppend,
    VerifyResult,
)
from events.schema import events_table as T
from events.schema import idempotency_table as K
from events.upcasting import UpcasterRegistry, default_upcasters
from events.verify import ChainVerifier, StoredRow

log = logging.getLogger(__name__)

AppendListener = Callable[[list[RecordedEvent]], Awaitable[None]]
"""Awaited after each committed append with the events it wrote (not on idempotent replays)."""

_PG_APPEND_LOCK = sa.text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.events'))")
# One round trip: the log's head (last position and time) and one stream's head.
_HEAD = sa.text(
    "SELECT g.position, g.recorded_at, s.version, s.hash FROM (SELECT 1 AS one) AS o "
    "LEFT JOIN (SELECT position, recorded_at FROM events ORDER BY position DESC LIMIT 1) AS g "
    "ON 1 = 1 "
    "LEFT JOIN (SELECT version, hash FROM events WHERE stream = :stream "
    "ORDER BY version DESC LIMIT 1) AS s ON 1 = 1"
).columns(
    sa.column("position", sa.BigInteger),
    sa.column("recorded_at", sa.DateTime(timezone=True)),
    sa.column("version", sa.BigInteger),
    sa.column("hash", sa.String),
)
_COLUMNS = (
    T.c.position,
    T.c.stream,
    T.c.version,
    T.c.event_id,
    T.c.type,
    T.c.schema_version,
    T.c.data,
    T.c["metadata"],
    T.c.recorded_at,
    T.c.hash,
    T.c.prev_hash,
)
_VERIFY_BATCH = 5000


class SqlEventStore:
    """The ``EventStore`` port on SQLite or PostgreSQL.

    Build one with ``await create_store(url)`` (migrates, owns its engine) or
    ``SqlEventStore(engine)`` on an engine from ``events.db.create_engine`` whose
    database is already migrated. ``listeners`` are awaited after every committed
    append with the recorded events; a failing listener is logged, never raised,
    because the append already committed.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        upcasters: UpcasterRegistry | None = None,
        owns_engine: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = engine
        self.upcasters = default_upcasters if upcasters is None else upcasters
        self.listeners: list[AppendListener] = []
        self._writer = write_engine(engine)
        self._postgres = not is_sqlite(engine)
        self._owns_engine = owns_engine
        self._clock = clock or (lambda: datetime.now(UTC))
        self._append_lock = asyncio.Lock()

    def add_listener(self, listener: AppendListener) -> None:
        self.listeners.append(listener)

    async def close(self) -> None:
        """Dispose of the engine if this store created it."""
        if self._owns_engine:
            await self.engine.dispose()

    # -- writing -------------------------------------------------------------------

    async def append(
        self,
        stream: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion,
        *,
        metadata: Metadata | None = None,
    ) -> list[int]:
        """Append ``events`` to ``stream``; see ``EventStore.append``."""
        return await self.append_streams(
            [StreamAppend(stream, events, expected_version)], metadata=metadata
        )

    async def append_streams(
        self, appends: Sequence[StreamAppend], *, metadata: Metadata | None = None
    ) -> list[int]:
        """Append to several streams in one transaction, all or nothing."""
        plans = plan_appends(appends)
        meta, meta_json = encode_metadata(metadata)
        key = meta.get("idempotency_key")
        async with self._append_lock:
            try:
                async with self._writer.begin() as conn:
                    if self._postgres:
                        await conn.execute(_PG_APPEND_LOCK)
                    if key is not None:
                        known = await conn.scalar(sa.select(K.c.positions).where(K.c.key == key))
                        if known is not None:
                            positions: list[int] = orjson.loads(known)
                            return positions
                    rows = await self._rows(conn, plans, meta, meta_json)
                    await conn.execute(T.insert(), rows)
                    positions = [r["position"] for r in rows]
                    if key is not None:
                        await conn.execute(
                            K.insert(),
                            {
                                "key": key,
                                "positions": orjson.dumps(positions).decode(),
                                "recorded_at": rows[0]["recorded_at"],
                            },
                        )
            except IntegrityError as exc:
                if "event_id" in str(exc.orig):
                    raise DuplicateEventId(
                        "an event id in this append is already recorded"
                    ) from exc
                raise
        if self.listeners:
            await self._notify(rows)
        return positions

    async def _rows(
        self,
        conn: AsyncConnection,
        plans: list[PlannedAppend],
        meta: dict[str, str],
        meta_json: str,
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        position = 0
        recorded_at = self._clock()
        for i, plan in enumerate(plans):
            head = (await conn.execute(_HEAD, {"stream": plan.stream})).one()
            if i == 0:
                position = head.position or 0
                if head.recorded_at is not None:
                    # The store's clock never runs backwards in the log.
                    recorded_at = max(recorded_at, _utc(head.recorded_at))
            version: int = head.version or 0
            _check_expected(plan.stream, plan.expected_version, version)
            prev_hash: str | None = head.hash
            for e in plan.events:
                position += 1
                version += 1
                ev = e.event
                digest = chain_hash(
                    prev_hash,
                    canonical(
                        stream=plan.stream,
                        version=version,
                        type=ev.type,
                        schema_version=ev.schema_version,
                        data=e.data,
                        metadata=meta,
                        recorded_at=recorded_at,
                    ),
                )
                rows.append(
                    {
                        "position": position,
                        "stream": plan.stream,
                        "version": version,
                        "event_id": ev.event_id,
                        "type": ev.type,
                        "schema_version": ev.schema_version,
                        "data": e.data_json,
                        "metadata": meta_json,
                        "recorded_at": recorded_at,
                        "hash": digest,
                        "prev_hash": prev_hash,
                    }
                )
                prev_hash = digest
        return rows

    async def _notify(self, rows: list[dict[str, Any]]) -> None:
        recorded = [
            RecordedEvent(
                position=r["position"],
                stream=r["stream"],
                version=r["version"],
                event_id=r["event_id"],
                type=r["type"],
                schema_version=r["schema_version"],
                data=orjson.loads(r["data"]),
                metadata=orjson.loads(r["metadata"]),
                recorded_at=r["recorded_at"],
                hash=r["hash"],
                prev_hash=r["prev_hash"],
            )
            for r in rows
        ]
        for listener in list(self.listeners):
            try:
                await listener(recorded)
            except Exception:
                log.exception("append listener %r failed", listener)

    # -- reading -------------------------------------------------------------------

    async def read_stream(
        self, stream: str, from_version: int = 1, to_version: int | None = None
    ) -> list[RecordedEvent]:
        """Events of ``stream`` with ``from_version <= version <= to_version``."""
        check_stream(stream)
        q = sa.select(*_COLUMNS).where(T.c.stream == stream, T.c.version >= from_version)
        if to_version is not None:
            q = q.where(T.c.version <= to_version)
        return await self._fetch(q.order_by(T.c.version))

    async def read_all(
        self, after_position: int = 0, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        """Up to ``limit`` events after ``after_position``, in position order."""
        q = sa.select(*_COLUMNS).where(T.c.position > after_position)
        if types is not None:
            q = q.where(T.c.type.in_(list(types)))
        return await self._fetch(q.order_by(T.c.position).limit(limit))

    async def _fetch(self, query: sa.Select[Any]) -> list[RecordedEvent]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [self._event(r) for r in rows]

    def _event(self, r: Row[Any]) -> RecordedEvent:
        (pos, stream, version, event_id, type_, sv, data, meta, ts, digest, prev) = tuple(r)
        data = orjson.loads(data)
        if self.upcasters:
            sv, data = self.upcasters.upcast(type_, sv, data)
        return RecordedEvent(
            pos,
            stream,
            version,
            event_id,
            type_,
            sv,
            data,
            orjson.loads(meta),
            ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC),
            digest,
            prev,
        )

    async def last_position(self) -> int:
        async with self.engine.connect() as conn:
            value = await conn.scalar(sa.select(sa.func.max(T.c.position)))
        return int(value or 0)

    async def stream_version(self, stream: str) -> int:
        """The stream's last version, 0 when it does not exist."""
        check_stream(stream)
        async with self.engine.connect() as conn:
            value = await conn.scalar(
                sa.select(sa.func.max(T.c.version)).where(T.c.stream == stream)
            )
        return int(value or 0)

    # -- verifying -----------------------------------------------------------------

    async def verify(self, stream: str | None = None) -> VerifyResult:
        """Recompute hash chains (one stream, or the whole log and its positions)."""
        if stream is not None:
            check_stream(stream)
        checker = ChainVerifier(check_positions=stream is None)
        after = None
        async with self.engine.connect() as conn:
            while True:
                q = sa.select(*_COLUMNS).order_by(T.c.position).limit(_VERIFY_BATCH)
                if stream is not None:
                    q = q.where(T.c.stream == stream)
                if after is not None:
                    q = q.where(T.c.position > after)
                rows = (await conn.execute(q)).all()
                for r in rows:
                    checker.feed(StoredRow(*r[:8], _utc(r[8]), r[9], r[10]))
                if len(rows) < _VERIFY_BATCH:
                    break
                after = rows[-1][0]
        return checker.result()


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _check_expected(stream: str, expected: ExpectedVersion, actual: int) -> None:
    if expected == ANY:
        return
    if expected == NO_STREAM:
        if actual != 0:
            raise WrongExpectedVersion(stream, expected, actual)
    elif expected != actual:
        raise WrongExpectedVersion(stream, expected, actual)


async def create_store(
    url: str | URL, *, migrate: bool = True, upcasters: UpcasterRegistry | None = None
) -> SqlEventStore:
    """Build an engine for ``url``, migrate it to head (unless told not to), return a store.

    The store owns the engine: ``await store.close()`` disposes of it.
    """
    from events.migrate import migrate as run_migrations

    engine = create_engine(url)
    try:
        if migrate:
            await run_migrations(engine)
    except BaseException:
        await engine.dispose()
        raise
    return SqlEventStore(engine, upcasters=upcasters, owns_engine=True)


__all__ = ["AppendListener", "SqlEventStore", "StoreError", "create_store"]
