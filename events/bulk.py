"""Bulk work of read-model rebuilds and catch-ups: decoding pages of the log into
envelopes, loading the rows a batch needs, and writing rows through the driver's
executemany (each column converted once per value, rows in primary key order)."""

from __future__ import annotations

import functools
import operator
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.port import EventStore
from events.projections.base import Envelope, Row, Workspace
from events.readmodels.tables import Json
from events.rows import Memo, sqlite_time
from events.sql_store import SqlEventStore
from events.upcasting import UpcasterRegistry

CHUNK = 2000  # rows or ids per statement: under SQLite's and asyncpg's parameter limits
Processor = Callable[[Any], Any]
PageReader = Callable[[int, int], Awaitable["tuple[list[Envelope], int] | None"]]
"""``read(after, limit)``: the envelopes wanted from the next page of the log and the page's
last position, or None past the end."""


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def paced(size: int, took: float, seconds: float, least: int = 200) -> int:
    """The next step's size (rows) so that it takes about ``seconds``, from the last one
    (``size`` rows in ``took`` seconds): at least ``least``, at most twice the last. SQLite
    writes that hold its one writer's lock are kept short this way (a rebuild's rows, the
    old tables' removal)."""
    return max(least, min(int(size * seconds / max(took, 1e-3)), 2 * size))


async def load_missing(
    conn: AsyncConnection, ws: Workspace, table: sa.Table, envs: list[Envelope]
) -> None:
    """Load from ``table`` the rows ``envs`` touch that ``ws`` does not hold yet."""
    wanted = ws.missing(envs)
    rows: list[Row] = []
    for col, values in wanted.items():
        ordered = list(values)
        for chunk in chunks(ordered):
            result = await conn.execute(sa.select(table).where(table.c[col].in_(chunk)))
            rows.extend(dict(r._mapping) for r in result)
    ws.load(wanted, rows)


async def write_changes(
    conn: AsyncConnection, ws: Workspace, table: sa.Table, *, delete: bool
) -> None:
    """Write the rows ``ws`` changed (deleting their old versions first when ``delete``)."""
    keys, inserts = ws.take_changes()
    pk = table.c[ws.projection.pk]
    if delete:
        for chunk in chunks(keys):
            await conn.execute(sa.delete(table).where(pk.in_(chunk)))
    if inserts:
        await insert_rows(conn, table, inserts)


async def insert_rows(conn: AsyncConnection, table: sa.Table, rows: list[Row]) -> None:
    sql, tuples = insert_plan(table, rows, conn.dialect)
    for chunk in chunks(tuples, 5000):
        await conn.exec_driver_sql(sql, list(chunk))


def insert_plan(
    table: sa.Table, rows: list[Row], dialect: Dialect
) -> tuple[str, list[tuple[Any, ...]]]:
    """A bulk insert for the driver's executemany: the statement and the rows as tuples,
    each column's bind processor applied once per value (SQLAlchemy's per-row parameter
    handling dominated rebuilds)."""
    sql, ordered, make = lazy_insert_plan(table, rows, dialect)
    return sql, list(map(make, ordered))


def lazy_insert_plan(
    table: sa.Table, rows: list[Row], dialect: Dialect
) -> tuple[str, list[Row], Callable[[Row], tuple[Any, ...]]]:
    """``insert_plan`` with the conversion left to the caller, a chunk at a time (a
    rebuild's flush then never holds every row's tuple and JSON text at once): the
    statement, the rows in primary key order and the row-to-tuple function."""
    sql, order = insert_statement(table, dialect)
    procs = [_bind_processor(table.c[name].type, dialect) for name in order]
    # Rows in primary key order: the new table's b-tree is then appended to, not split
    # at random places (ids are random UUIDs), which halves SQLite's insert time.
    pk = table.primary_key.columns[0].name
    return sql, sorted(rows, key=operator.itemgetter(pk)), _row_maker(order, procs)


@functools.lru_cache(maxsize=64)
def row_inserter(table: sa.Table, dialect: Dialect) -> tuple[str, Callable[[Row], Any]]:
    """``insert_plan``'s statement and row-to-tuple function, built once per table and
    dialect, for the many small inserts of the write path (the inline projection); values
    are converted as they come (nothing memoised across calls)."""
    sql, order = insert_statement(table, dialect)
    procs = [_bind_processor(table.c[name].type, dialect, memoised=False) for name in order]
    return sql, _row_maker(order, procs)


def _row_maker(order: Sequence[str], procs: Sequence[Processor | None]) -> Callable[[Row], Any]:
    """One function from a row to its tuple, each column converted as it is taken:
    ``lambda r: (r['a'], p1(r['b']), ...)``, compiled once per plan (a third of the time
    of taking the columns, then converting the ones that need it column by column)."""
    names: dict[str, Any] = {}
    parts: list[str] = []
    for i, (name, proc) in enumerate(zip(order, procs, strict=True)):
        if proc is None:
            parts.append(f"r[{name!r}]")
        else:
            names[f"p{i}"] = proc
            parts.append(f"p{i}(r[{name!r}])")
    # The source is built from the table's own column names (repr-quoted), nothing else.
    make: Callable[[Row], Any] = eval(f"lambda r: ({', '.join(parts)},)", names)  # noqa: S307
    return make


async def copy_rows(
    conn: AsyncConnection, table: sa.Table, tuples: Sequence[tuple[Any, ...]]
) -> None:
    """PostgreSQL: ``COPY`` rows (tuples of ``insert_plan``) into ``table`` through
    asyncpg's binary ``copy_records_to_table``, the fastest way in; the table is named
    unqualified, so the connection's search path finds it as any statement would."""
    raw: Any = (await conn.get_raw_connection()).driver_connection
    await raw.copy_records_to_table(
        table.name, records=tuples, columns=column_order(table, conn.dialect)
    )


@functools.lru_cache(maxsize=64)
def insert_statement(table: sa.Table, dialect: Dialect) -> tuple[str, tuple[str, ...]]:
    """``INSERT`` of every column of ``table`` for ``dialect``: the statement and the
    columns in the order it binds them (compiled once per table and dialect)."""
    compiled = sa.insert(table).compile(dialect=dialect)
    return compiled.string, tuple(compiled.positiontup or [c.name for c in table.columns])


def column_order(table: sa.Table, dialect: Dialect) -> list[str]:
    """The columns in the order ``insert_plan``'s statement binds them."""
    return list(insert_statement(table, dialect)[1])


def _bind_processor(
    type_: sa.types.TypeEngine[Any], dialect: Dialect, *, memoised: bool = True
) -> Processor | None:
    """The column's bind processor, made cheap for bulk inserts: JSON coded by orjson
    directly (not through the ``TypeDecorator`` chain), and (``memoised``) dates and times
    converted once per distinct value (effective dates and append times repeat across rows)."""
    if isinstance(type_, Json):
        return _json_text
    proc: Processor | None = type_.dialect_impl(dialect).bind_processor(dialect)
    if proc is None or not memoised or not isinstance(type_, sa.Date | sa.DateTime):
        return proc
    convert = proc
    cache: dict[Any, Any] = {}

    def memo(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            out = cache[value] = convert(value)
            return out

    return memo


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def next_table(table: sa.Table) -> sa.Table:
    """The rebuild target: same columns and primary key, no secondary indexes yet."""
    return sa.Table(
        f"{table.name}__next",
        sa.MetaData(),
        *(
            sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
            for c in table.columns
        ),
    )


def _id_text(hex32: str) -> str:
    """32 hex digits (how SQLite stores an event id) as the canonical UUID text."""
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"


def _actor_of(metadata: str) -> Any:
    return orjson.loads(metadata).get("actor_id")


def _same(value: Any) -> Any:
    return value


def decode_page(
    rows: Sequence[Any], types: set[str], upcasters: UpcasterRegistry | None, *, sqlite: bool
) -> tuple[list[Envelope], int] | None:
    """Stored rows (driver values, ``SqlEventStore.scan``) to the envelopes of ``types``
    and the page's last position, as ``events.rows`` decodes them for the store, minus
    what a projection never reads (hashes). SQLite gives the id as hex and the time as
    naive UTC text; times and actors are decoded once per distinct text (``Memo``: the
    events of one append share them)."""
    if not rows:
        return None
    times: Callable[[Any], Any] = Memo(sqlite_time).__getitem__ if sqlite else _same
    actors = Memo(_actor_of)
    upcast = upcasters.upcast if upcasters else None
    out: list[Envelope] = []
    append = out.append
    for position, stream, version, event_id, type_, sv, data, meta, ts, _, _ in rows:
        if type_ not in types:
            continue
        payload = orjson.loads(data)
        if upcast is not None:
            sv, payload = upcast(type_, sv, payload)
        append(
            Envelope(
                position=position,
                stream=stream,
                version=version,
                recorded_at=times(ts),
                actor_id=actors[meta],
                event_id=None if sqlite else event_id,
                id_text=_id_text(event_id) if sqlite else None,
                type=type_,
                data=payload,
            )
        )
    return out, rows[-1][0]


def page_reader(store: EventStore, engine: AsyncEngine, types: set[str]) -> PageReader:
    """How a rebuild reads the log: straight from the driver (``SqlEventStore.scan``: no
    ``RecordedEvent``, no hashes, JSON decoded once, upcast as the store does) when the
    store is ``engine``'s SQL store, through ``read_all`` otherwise."""
    if isinstance(store, SqlEventStore) and store.engine is engine:
        sql_store = store
        decode = functools.partial(
            decode_page,
            types=types,
            upcasters=sql_store.upcasters,
            sqlite=engine.dialect.name == "sqlite",
        )

        async def scan(after: int, limit: int) -> tuple[list[Envelope], int] | None:
            page = await sql_store.scan(after, limit, decode)
            if page is not None:
                await sql_store.open_envelopes(page[0])  # personal data (events.sealing)
            return page

        return scan

    async def read(after: int, limit: int) -> tuple[list[Envelope], int] | None:
        records = await store.read_all(after_position=after, limit=limit)
        if not records:
            return None
        return [Envelope.of(r) for r in records if r.type in types], records[-1].position

    return read
