"""``SqlEventStore``: the event log on SQLite or PostgreSQL.

Connections come from a SQLAlchemy ``AsyncEngine`` (pooling, URLs, migrations, the
schema); the hot paths talk to the driver underneath it (``sqlite_io``, ``pg_io``) so
an append is one thread hop on SQLite and, on PostgreSQL, one transaction of a few
round trips (see ``pg_io``); on both, appends queued meanwhile share one commit.

Appends are serialized: one writer thread (SQLite) or one draining task (PostgreSQL) per
store plus, across processes, SQLite's ``BEGIN IMMEDIATE`` write lock or a PostgreSQL
transaction-scoped advisory lock. Under that lock the next position is
``max(position) + 1``, so positions are gap-free and follow commit order; a reader
tailing ``read_all`` never skips one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events import pg_io, sqlite_io, tree
from events.conditions import AppendCondition
from events.db import create_engine, is_sqlite
from events.encoding import check_stream, encode_metadata, plan_appends
from events.errors import StoreError
from events.merkle import CompactTree, ProofError
from events.pg_io import PgBeforeCommit
from events.pg_reads import pg_point_rows
from events.port import (
    Appended,
    ExpectedVersion,
    Metadata,
    NewEvent,
    RecordedEvent,
    StreamAppend,
    VerifyResult,
)
from events.rows import COLUMNS, decode_rows
from events.schema import events_table as T
from events.sealing import KeyRace, Sealer
from events.sqlite_io import BeforeCommit, SqliteReader, SqliteWriter
from events.upcasting import UpcasterRegistry, default_upcasters
from events.verify import ChainVerifier, StoredRow

log = logging.getLogger(__name__)
_MAX_BIGINT = 2**63 - 1

AppendListener = Callable[[list[RecordedEvent]], Awaitable[None]]
"""Awaited after each committed append with the events it wrote (not on idempotent replays)."""

_COLUMNS = [T.c[name] for name in COLUMNS]
_VERIFY_BATCH = 5000
_KEY_SQLITE = "SELECT positions FROM idempotency_keys WHERE key = ?"
_KEY_PG = "SELECT positions FROM idempotency_keys WHERE key = $1"
_LAST_OF_TYPE_SQLITE = "SELECT max(position) FROM events WHERE type = ?"
_LAST_OF_TYPE_PG = "SELECT max(position) FROM events WHERE type = $1"
_STREAM_VERSION_SQLITE = "SELECT max(version) FROM events WHERE stream = ?"
_STREAM_VERSION_PG = "SELECT max(version) FROM events WHERE stream = $1"


_T = TypeVar("_T")
_AUTO: Any = object()


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
        sealer: Sealer | None = _AUTO,
    ) -> None:
        """``sealer`` seals personal data on append and opens it on read
        (``events.sealing``); the default one keeps its keys in ``engine``'s database,
        None stores and reads data as given."""
        self.engine = engine
        self.sealer: Sealer | None = Sealer(engine) if sealer is _AUTO else sealer
        self.upcasters = default_upcasters if upcasters is None else upcasters
        self.listeners: list[AppendListener] = []
        self._sqlite = SqliteWriter(engine) if is_sqlite(engine) else None
        self._reader: SqliteReader | pg_io.PgReader = (
            SqliteReader(engine) if self._sqlite is not None else pg_io.PgReader(engine)
        )
        self._pg = pg_io.PgAppender()
        self._sql = sqlite_io.READS if self._sqlite is not None else pg_io.READS
        self._owns_engine = owns_engine
        self._clock = clock or (lambda: datetime.now(UTC))
        self._closed = False
        self._last_tree: CompactTree | None = None
        self._applied: Callable[[int], None] | None = None

    def add_listener(self, listener: AppendListener) -> None:
        self.listeners.append(listener)

    async def close(self) -> None:
        """Stop the SQLite writer thread; dispose of the engine if this store created it."""
        if self._sqlite is not None:
            await self._sqlite.close()
        if isinstance(self._reader, SqliteReader):
            await self._reader.close()
        if self._owns_engine and not self._closed:
            self._closed = True
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
        return list((await self.write(appends, metadata=metadata)).positions)

    async def write(
        self,
        appends: Sequence[StreamAppend],
        *,
        metadata: Metadata | None = None,
        conditions: Sequence[AppendCondition] = (),
    ) -> Appended:
        """``append_streams``, saying what happened: the events as recorded, or, when the
        metadata's idempotency key was already used, ``replayed`` and the positions that
        first append wrote (decided under the append lock, so exact under any race).

        ``conditions`` are checked under the append lock before anything is written
        (``events.conditions``); one that raises refuses the append."""
        if self.sealer is None:
            return await self._write(appends, metadata, conditions)
        # A new person's key is stored in the append's own transaction (no statement and,
        # on PostgreSQL, no connection of its own before the append).
        in_append = True
        for _ in range(3):
            sealed, keys = await self.sealer.seal_with_keys(appends, in_append=in_append)
            try:
                done = await self._write(
                    sealed, metadata, conditions if keys is None else (*conditions, keys)
                )
            except KeyRace as race:  # another key was stored meanwhile: use that one
                self.sealer.drop(race.subjects)
                in_append = False
                continue
            if keys is not None:
                self.sealer.stored(keys)
            return done
        raise StoreError("the data keys of this append kept changing")  # pragma: no cover

    async def _write(
        self,
        appends: Sequence[StreamAppend],
        metadata: Metadata | None,
        conditions: Sequence[AppendCondition],
    ) -> Appended:
        plans = plan_appends(appends)
        meta, meta_json = encode_metadata(metadata)
        key = meta.get("idempotency_key")
        projected = False
        tree_after: CompactTree | None
        if self._sqlite is not None:
            # No lock here: the writer thread serializes, and queued appends share a commit.
            positions, recorded, projected, tree_after = await self._sqlite.append(
                plans, meta, meta_json, key, self._clock(), conditions
            )
        else:
            # Group commit: appends queued while a batch commits share the next one.
            positions, recorded, projected, tree_after = await self._pg.write(
                self.engine, plans, meta, meta_json, key, self._clock(), conditions
            )
        if recorded is not None and tree_after is not None:
            last = self._last_tree
            if last is None or tree_after.size > last.size:  # appends may settle out of order
                self._last_tree = tree_after
        if recorded is None:
            return Appended(tuple(positions), (), replayed=True)
        # Projected events come back as the projection had them: opened already.
        if self.sealer is not None and not projected:
            self.sealer.open_cached(recorded)
        if projected and self._applied is not None:
            self._applied(recorded[-1].position)
        if self.listeners:
            await self._notify(recorded)
        return Appended(tuple(positions), tuple(recorded), replayed=False, projected=projected)

    def commit_without_fsync(self) -> None:
        """For bulk sample data (``ladder demo``): SQLite commits stop waiting for the disk
        (``synchronous = NORMAL`` in WAL mode). A commit still survives the process being
        killed, not a power cut. Call before the first append; PostgreSQL is unchanged."""
        if self._sqlite is not None:
            self._sqlite.durable = False

    def project_inline(
        self,
        *,
        sqlite: BeforeCommit | None = None,
        postgres: PgBeforeCommit | None = None,
        applied: Callable[[int], None] | None = None,
    ) -> None:
        """Run ``sqlite`` (on SQLite) or ``postgres`` (on PostgreSQL) in each append's
        transaction before it commits (``events.inline``: the read models); ``applied``
        is told the last position of each append it projected, once that committed."""
        self._applied = applied
        sealer = self.sealer
        if sealer is not None and sqlite is not None:
            inner = sqlite

            def sqlite_opened(conn: Any, recorded: Sequence[RecordedEvent]) -> bool:
                sealer.open_cached(recorded)
                return inner(conn, recorded)

            sqlite = sqlite_opened
        if sealer is not None and postgres is not None:
            inner_pg = postgres

            async def postgres_opened(conn: Any, recorded: Sequence[RecordedEvent]) -> bool:
                sealer.open_cached(recorded)
                return await inner_pg(conn, recorded)

            postgres = postgres_opened
        if self._sqlite is not None:
            self._sqlite.before_commit = sqlite
        else:
            self._pg.before_commit = postgres

    async def _notify(self, recorded: list[RecordedEvent]) -> None:
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
        last = _MAX_BIGINT if to_version is None else to_version
        return await self._fetch(self._sql.read_stream, stream, from_version, last, point=True)

    async def read_all(
        self, after_position: int = 0, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        """Up to ``limit`` events after ``after_position``, in position order."""
        if limit <= 0 or (types is not None and not types):
            return []
        if types is None:
            return await self._fetch(self._sql.read_all, after_position, limit)
        names: Any = list(types)
        if self._sqlite is not None:
            names = orjson.dumps(names).decode()
        return await self._fetch(self._sql.read_all_types, after_position, names, limit)

    async def scan(self, after_position: int, limit: int, decode: Callable[[list[Any]], _T]) -> _T:
        """``decode(rows)`` of the next ``limit`` rows of the log after ``after_position``,
        as the driver gives them: tuples in ``events.rows.COLUMNS`` order, with
        ``event_id`` as 32 hex digits and ``recorded_at`` as naive UTC text on SQLite.

        For bulk readers (a read-model rebuild) that want neither ``RecordedEvent`` nor
        the hashes: no per-row objects on the way, and on SQLite the page is fetched and
        decoded on a reader thread, so the caller can work on the previous page meanwhile.
        """
        return await self._reader.fetch(self._sql.read_all, (after_position, limit), decode)

    async def _fetch(self, sql: str, *params: Any, point: bool = False) -> list[RecordedEvent]:
        """The events ``sql`` selects; a ``point`` read (one stream, by its index) skips the
        reader: on SQLite it runs on the caller's thread (``SqliteReader.fetch_now``), on
        PostgreSQL on a point-read connection (``events.pg_reads``)."""
        if point and isinstance(self._reader, SqliteReader):
            events = self._reader.fetch_now(sql, params, self._decode)
        elif point and (found := await pg_point_rows(self.engine, sql, params)) is not None:
            events = self._decode(found[0])
        else:
            events = await self._reader.fetch(sql, params, self._decode)
        if self.sealer is not None and events:
            await self.sealer.open(events)
        return events

    async def open_envelopes(self, envelopes: Sequence[Any]) -> None:
        """Open the personal fields of envelopes read with ``scan`` (in place)."""
        if self.sealer is not None and envelopes:
            await self.sealer.open(envelopes, [e.id_text for e in envelopes])

    def _decode(self, rows: list[Any]) -> list[RecordedEvent]:
        return decode_rows(rows, self.upcasters, sqlite=self._sqlite is not None)

    async def known_positions(self, key: str) -> list[int] | None:
        """The positions the append carrying idempotency ``key`` wrote, or None if the key
        was never used (one lookup, off the loop on SQLite)."""
        found = await self._scalar(_KEY_SQLITE, _KEY_PG, key)
        if found is None:
            return None
        positions: list[int] = orjson.loads(found)
        return positions

    async def last_position_of(self, type_name: str) -> int:
        """The position of the last event of type ``type_name`` (0 if none): one lookup
        in the (type, position) index."""
        return int(await self._scalar(_LAST_OF_TYPE_SQLITE, _LAST_OF_TYPE_PG, type_name) or 0)

    async def _scalar(self, sqlite_sql: str, pg_sql: str, *params: Any) -> Any:
        """The first column of the first row (None without one) of an index lookup,
        through the driver: on the caller's thread on SQLite (``SqliteReader.fetch_now``),
        on a point-read connection on PostgreSQL (``events.pg_reads``)."""
        if isinstance(self._reader, SqliteReader):
            return self._reader.fetch_now(sqlite_sql, params, _first_value)
        found = await pg_point_rows(self.engine, pg_sql, params)
        if found is not None:
            return _first_value(found[0])
        return await self._reader.fetch(pg_sql, params, _first_value)

    async def last_position(self) -> int:
        async with self.engine.connect() as conn:
            value = await conn.scalar(sa.select(sa.func.max(T.c.position)))
        return int(value or 0)

    async def stream_version(self, stream: str) -> int:
        """The stream's last version, 0 when it does not exist (one index lookup, off the
        loop on SQLite)."""
        check_stream(stream)
        return int(await self._scalar(_STREAM_VERSION_SQLITE, _STREAM_VERSION_PG, stream) or 0)

    # -- the Merkle tree -------------------------------------------------------------

    async def tree_root(self, size: int | None = None) -> tuple[int, bytes]:
        """``(size, root)`` of the log's Merkle tree over its first ``size`` events
        (default: all of them), from the stored nodes."""
        async with self.engine.connect() as conn:
            last = await tree.tree_size(conn)
            size = last if size is None else size
            if not 0 <= size <= last:
                raise ProofError(f"the log has {last} events, not {size}")
            return size, await tree.root_at(conn, size)

    async def tree_head(self, at_least: int) -> tuple[int, bytes]:
        """A true ``(size, root)`` of the log with ``size >= at_least``: the tree this
        store's last append left, when it is that big (no read), else ``tree_root()``."""
        tree = self._last_tree
        if tree is not None and tree.size >= at_least:
            return tree.size, tree.root()
        return await self.tree_root()

    async def inclusion_proof(self, position: int, size: int) -> list[bytes]:
        """The RFC 9162 inclusion path of the event at ``position`` in the tree of ``size``."""
        async with self.engine.connect() as conn:
            await _check_size(conn, size)
            return await tree.inclusion_proof(conn, position - 1, size)

    async def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """The RFC 9162 consistency proof from the tree of size ``old`` to size ``new``."""
        async with self.engine.connect() as conn:
            await _check_size(conn, new)
            return await tree.consistency_proof(conn, old, new)

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
                    checker.feed(StoredRow.of(r))
                if len(rows) < _VERIFY_BATCH:
                    break
                after = rows[-1][0]
        return checker.result()


def _first_value(rows: list[Any]) -> Any:
    return rows[0][0] if rows else None


async def _check_size(conn: AsyncConnection, size: int) -> None:
    last = await tree.tree_size(conn)
    if size > last:
        raise ProofError(f"the log has {last} events, not {size}")


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
