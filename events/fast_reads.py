"""Read-model statements on SQLite in one thread hop (or none, for an index lookup).

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
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from events.db import SQLITE_BUSY_TIMEOUT_MS, is_sqlite
from events.pg_reads import pg_point_rows

READER_THREADS = 4


class _Readers:
    def __init__(self, engine: AsyncEngine) -> None:
        url = engine.url.set(drivername="sqlite+pysqlite")
        # One connection per thread that reads, kept by it: the reader threads, and the
        # event loop's own thread for point reads (more than one in a process that runs
        # several loops), hence no cap on the overflow.
        self.sync: Engine = sa.create_engine(
            url,
            pool_size=READER_THREADS,
            max_overflow=-1,
            connect_args={"check_same_thread": False},
        )

        @event.listens_for(self.sync, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # autocommit: no BEGIN, no ROLLBACK
            dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")

        self.executor = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="readmodel-reader")
        self._local = threading.local()

    def _conn(self) -> sa.Connection:
        conn: sa.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self.sync.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            )
        return conn

    def rows(
        self, query: sa.Executable, params: Mapping[str, Any] | None
    ) -> list[Mapping[str, Any]]:
        return _dicts(self._conn().execute(query, params))

    def point_rows(
        self, query: sa.Executable, params: Mapping[str, Any] | None
    ) -> list[Mapping[str, Any]]:
        """``rows`` through the driver (``_RawRead``): no SQLAlchemy execution per call."""
        given = params or {}
        raw = _raw_read(self.sync.dialect, query, given)
        driver: Any = self._conn().connection.dbapi_connection
        return raw.rows(driver.execute(raw.sql, raw.args(given)).fetchall())

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.sync.dispose()


@dataclass
class _RawRead:
    """A read statement as SQLAlchemy compiles it for a dialect and one shape of
    parameters (how many values each expanding ``IN`` has): its SQL, how to get each
    positional value from the call's parameters (with the bind type's conversion), the
    result keys and column types, whose conversions (dates, booleans, JSON) are found
    once per shape of the driver's column types."""

    dialect: sa.Dialect
    sql: str
    values: tuple[Callable[[Mapping[str, Any]], Any], ...]
    keys: tuple[str, ...]
    types: tuple[Any, ...]
    coltypes: tuple[Any, ...] | None = None
    """The driver's column types, once a read asked for them (PostgreSQL)."""
    _converted: dict[tuple[Any, ...], tuple[tuple[int, Callable[[Any], Any]], ...]] = field(
        default_factory=dict
    )
    """Per shape of the driver's column types: the columns that have a conversion."""

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional values for ``params``."""
        return [value(params) for value in self.values]

    def rows(
        self, records: Sequence[Any], coltypes: tuple[Any, ...] | None = None
    ) -> list[Mapping[str, Any]]:
        """The driver's records as SQLAlchemy would return them (keyed, converted);
        ``coltypes``: the driver's type of each column where its conversions depend on
        it (asyncpg's type oids; SQLite has none)."""
        shape = coltypes or (None,) * len(self.keys)
        converted = self._converted.get(shape)
        if converted is None:
            processors = (
                t._cached_result_processor(self.dialect, c)
                for t, c in zip(self.types, shape, strict=True)
            )
            converted = self._converted[shape] = tuple(
                (i, f) for i, f in enumerate(processors) if f is not None
            )
        keys = self.keys
        if not converted:
            return [dict(zip(keys, row, strict=True)) for row in records]
        found: list[Mapping[str, Any]] = []
        for record in records:
            row = list(record)
            for i, convert in converted:
                row[i] = convert(row[i])
            found.append(dict(zip(keys, row, strict=True)))
        return found


def _value(name: str, index: int | None, convert: Callable[[Any], Any] | None) -> Any:
    def value(params: Mapping[str, Any]) -> Any:
        given = params[name] if index is None else params[name][index]
        return given if convert is None or given is None else convert(given)

    return value


def _constant(value: Any) -> Callable[[Mapping[str, Any]], Any]:
    return lambda _params: value


_raw_reads: OrderedDict[tuple[Any, ...], _RawRead] = OrderedDict()
KEPT_RAW_READS = 256


def _raw_read(dialect: sa.Dialect, query: sa.Executable, params: Mapping[str, Any]) -> _RawRead:
    """``query`` compiled for ``params``' shape, once (statements built once per process
    are the ones read this way; the cache keeps the last ``KEPT_RAW_READS``)."""
    shape = tuple(
        (name, len(value)) for name, value in params.items() if isinstance(value, list | tuple)
    )
    key = (dialect.name, query, shape)
    found = _raw_reads.get(key)
    if found is not None:
        return found
    compiled: Any = cast("Any", query).compile(dialect=dialect)
    expanded = compiled.construct_expanded_state(dict(params))
    expansion = {
        name: (base, index)
        for base, names in expanded.parameter_expansion.items()
        for index, name in enumerate(names)
    }
    binds = compiled._bind_processors
    values: list[Callable[[Mapping[str, Any]], Any]] = []
    for name in expanded.positiontup:
        base, index = expansion.get(name, (name, None))
        if base in params:
            values.append(_value(base, index, binds.get(base)))
        else:  # a literal the statement binds itself (an IN list of literals too)
            convert = binds.get(base)
            literal = expanded.parameters[name]
            values.append(_constant(literal if convert is None else convert(literal)))
    columns = compiled._result_columns
    found = _RawRead(
        dialect=dialect,
        sql=expanded.statement,
        values=tuple(values),
        keys=tuple(c.keyname for c in columns),
        types=tuple(c.type for c in columns),
    )
    _raw_reads[key] = found
    if len(_raw_reads) > KEPT_RAW_READS:
        _raw_reads.popitem(last=False)
    return found


def _dicts(result: sa.CursorResult[Any]) -> list[Mapping[str, Any]]:
    """The rows as dicts: zipped with the keys, a third of the cost of ``Row._mapping``."""
    keys = tuple(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


_readers: WeakKeyDictionary[AsyncEngine, _Readers] = WeakKeyDictionary()
_lock = threading.Lock()


async def fetch_rows(
    engine: AsyncEngine,
    query: sa.Executable,
    params: Mapping[str, Any] | None = None,
    *,
    point: bool = False,
) -> list[Mapping[str, Any]]:
    """The rows of one read statement: one thread hop on SQLite, asyncpg on PostgreSQL.

    ``params`` bind the statement's ``bindparam``s: a statement built once per process
    with them skips SQLAlchemy's construction and cache-key work on every request.

    ``point``: the statement is an index lookup of a few rows (a person by id, a track's
    ladder). It then runs through the driver as SQLAlchemy compiled it (``_RawRead``):
    on SQLite on the caller's thread, on that thread's own connection (the hop to a
    reader thread and back — a queue, a wake-up, the loop's self-pipe — costs several
    times such a lookup; anything that may scan stays off the event loop), on
    PostgreSQL on a pool of plain asyncpg connections (``events.pg_reads``)."""
    if not is_sqlite(engine):
        if point:
            given = params or {}
            raw = _raw_read(engine.dialect, query, given)
            found = await pg_point_rows(
                engine, raw.sql, raw.args(given), types=raw.coltypes is None
            )
            if found is not None:
                records, coltypes = found
                if coltypes is not None:
                    raw.coltypes = coltypes
                return raw.rows(records, raw.coltypes)
        async with _autocommit(engine).connect() as conn:
            return _dicts(await conn.execute(query, params))
    readers = _readers.get(engine)
    if readers is None:
        with _lock:
            readers = _readers.get(engine)
            if readers is None:
                readers = _readers[engine] = _Readers(engine)
    if point:
        return readers.point_rows(query, params)
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
