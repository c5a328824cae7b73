"""Swapping a rebuilt read-model table in, holding writers only for renames.

The new table's indexes are built ahead, before the swap takes the lock: on SQLite when the
table is made (before its rows: no index build holds writers), on PostgreSQL once its rows
are in. PostgreSQL builds them under ``__next`` names and renames them at the swap. SQLite
cannot rename an index:
it builds each under its canonical name when that is free, else under the ``__next``
name (the old table still holds the canonical one), so successive rebuilds alternate.
SQLite also sets the old table aside at the swap (a rename) and drops it after the swap
has committed (``drop_retired``): dropping a big table frees every page, which would
hold writers for seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.visitors import replacement_traverse

from events.bulk import next_table, paced
from events.projections.base import Projection


async def swap_in(conn: AsyncConnection, p: Projection, target: sa.Table) -> None:
    """Replace ``p``'s table with ``target`` (its rebuilt ``__next`` table) in ``conn``'s
    transaction: drop, rename, and the indexes under their canonical names."""
    table = p.table
    prep = conn.dialect.identifier_preparer
    if conn.dialect.name == "sqlite":
        retired = prep.quote(retired_name(table.name))
        await conn.execute(sa.text(f"DROP TABLE IF EXISTS {retired}"))  # an interrupted swap's
        if await _sqlite_has(conn, "table", table.name):
            await conn.execute(sa.text(f"ALTER TABLE {prep.quote(table.name)} RENAME TO {retired}"))
        await conn.execute(
            sa.text(f"ALTER TABLE {prep.quote(target.name)} RENAME TO {prep.quote(table.name)}")
        )
        return
    await conn.run_sync(table.drop, checkfirst=True)
    await conn.execute(
        sa.text(f"ALTER TABLE {prep.quote(target.name)} RENAME TO {prep.quote(table.name)}")
    )
    # PostgreSQL keeps index names across a table rename; give the primary key and the
    # indexes built ahead (``index_ahead``) their canonical names, so the next rebuild
    # can use the ``__next`` names again.
    renames = [(target.name + "_pkey", table.name + "_pkey")]
    renames += [(ahead_name(str(ix.name)), str(ix.name)) for ix in table.indexes]
    for before, after in renames:
        await conn.execute(
            sa.text(f"ALTER INDEX {prep.quote(before)} RENAME TO {prep.quote(after)}")
        )


async def create_next(conn: AsyncConnection, p: Projection) -> sa.Table:
    """Create ``p``'s rebuild target (``__next``) afresh, empty; on SQLite with its
    indexes already.

    SQLite has one writer: ``CREATE INDEX`` over a million rows is one transaction of
    seconds, during which every append waits. Indexed from the start, the table is
    written in short transactions only (each flush chunk maintains the indexes as it
    goes), so no append waits for more than one of them. PostgreSQL's index builds do
    not hold appends: it indexes once, after the rows (``index_ahead``)."""
    target = next_table(p.table)
    await conn.run_sync(target.drop, checkfirst=True)
    await conn.run_sync(target.create)
    if conn.dialect.name == "sqlite":
        for ix in p.table.indexes:
            await _create_ahead(conn, ix, target)
    return target


async def index_ahead(writer: AsyncEngine, chosen: Sequence[Projection]) -> None:
    """Index the new tables before the swap, one index per transaction, so the swap holds
    its locks (queries of the old tables on PostgreSQL) only for the renames. On SQLite
    they were indexed when made (``create_next``)."""
    if writer.dialect.name == "sqlite":
        return
    for p in chosen:
        target = next_table(p.table)
        for ix in p.table.indexes:
            async with writer.begin() as conn:
                await _create_ahead(conn, ix, target)


async def _create_ahead(conn: AsyncConnection, ix: sa.Index, target: sa.Table) -> None:
    """``ix`` on ``target`` under its ``__next`` name, or on SQLite (which cannot rename an
    index) under its canonical name when the old table does not hold it."""
    name = ahead_name(str(ix.name))
    if conn.dialect.name == "sqlite" and not await _sqlite_has(conn, "index", str(ix.name)):
        name = str(ix.name)
    ahead = sa.Index(name, *_retarget(ix, target), unique=ix.unique)
    await conn.run_sync(ahead.create)


async def drop_retired(
    writer: AsyncEngine,
    chosen: Sequence[Projection],
    *,
    rows: int = 20_000,
    seconds: float = 0.15,
    pause: float = 0.02,
) -> None:
    """Drop the tables a SQLite swap set aside, after it, in short transactions: their
    indexes one by one, their rows a step at a time (by rowid), then the empty table.

    One ``DROP TABLE`` of a million rows frees every page in one transaction and held
    writers for over ten seconds. The rows per step start at ``rows`` and adapt so that a
    step takes about ``seconds``; between steps a waiting writer gets its turn (``pause``:
    SQLite's busy handler retries on a timer, so a lock taken back at once could starve
    it). (Emptying the table with its indexes in place, so that they shrink with it, was
    tried: every deleted row then costs a random visit to each index, and a million rows
    took over ten minutes.)"""
    if writer.dialect.name != "sqlite":
        return
    prep = writer.dialect.identifier_preparer
    for p in chosen:
        name = retired_name(p.table.name)
        async with writer.connect() as conn:
            if not await _sqlite_has(conn, "table", name):
                continue
            some = sa.select(sa.literal(1)).select_from(sa.table(name)).limit(rows + 1)
            counted = await conn.scalar(sa.select(sa.func.count()).select_from(some.subquery()))
        if counted is not None and counted <= rows:
            # Few rows (a first build, a small log): one short transaction drops it all.
            async with writer.begin() as conn:
                await conn.execute(sa.text(f"DROP TABLE {prep.quote(name)}"))
            continue
        async with writer.connect() as conn:
            found = await conn.execute(
                sa.text(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t "
                    "AND sql IS NOT NULL"
                ),
                {"t": name},
            )
            indexes = [str(n) for n in found.scalars()]
        for index in indexes:
            async with writer.begin() as conn:
                await conn.execute(sa.text(f"DROP INDEX IF EXISTS {prep.quote(index)}"))
            await asyncio.sleep(pause)
        retired = sa.table(name)
        rowid: sa.ColumnElement[int] = sa.literal_column("rowid")
        step = rows
        while True:
            started = time.perf_counter()
            async with writer.begin() as conn:
                first = await conn.scalar(sa.select(sa.func.min(rowid)).select_from(retired))
                if first is None:
                    await conn.execute(sa.text(f"DROP TABLE {prep.quote(name)}"))
                    break
                await conn.execute(sa.delete(retired).where(rowid < first + step))
            took = time.perf_counter() - started
            step = paced(step, took, seconds)
            await asyncio.sleep(pause)


def retired_name(table_name: str) -> str:
    return f"{table_name}__old"


async def _sqlite_has(conn: AsyncConnection, kind: str, name: str) -> bool:
    found = await conn.execute(
        sa.text("SELECT 1 FROM sqlite_master WHERE type = :kind AND name = :name"),
        {"kind": kind, "name": name},
    )
    return found.first() is not None


def ahead_name(index_name: str) -> str:
    return f"{index_name}__next"


def _retarget(ix: sa.Index, target: sa.Table) -> list[Any]:
    """``ix``'s columns and expressions (``lower(email)``) on ``target``'s columns."""

    def swap(element: Any) -> Any:
        if isinstance(element, sa.Column) and element.table is not target:
            return target.c[element.name]
        return None

    out: list[Any] = []
    for e in ix.expressions:
        if isinstance(e, str):
            out.append(target.c[e])
        else:
            out.append(replacement_traverse(e, {}, swap))  # type: ignore[call-overload]
    return out
