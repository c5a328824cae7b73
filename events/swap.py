"""Swapping a rebuilt read-model table in: its indexes built ahead (PostgreSQL) or at the
swap (SQLite, which cannot rename an index), renamed to their canonical names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.visitors import replacement_traverse

from events.bulk import next_table
from events.projections.base import Projection


async def swap_in(conn: AsyncConnection, p: Projection, target: sa.Table) -> None:
    """Replace ``p``'s table with ``target`` (its rebuilt ``__next`` table) in ``conn``'s
    transaction: drop, rename, and the indexes under their canonical names."""
    table = p.table
    await conn.run_sync(table.drop, checkfirst=True)
    prep = conn.dialect.identifier_preparer
    await conn.execute(
        sa.text(f"ALTER TABLE {prep.quote(target.name)} RENAME TO {prep.quote(table.name)}")
    )
    if conn.dialect.name == "sqlite":  # SQLite cannot rename an index: built here, under the lock
        for index in table.indexes:
            await conn.run_sync(index.create)
        return
    # PostgreSQL keeps index names across a table rename; give the primary key and the
    # indexes built ahead (``index_ahead``) their canonical names, so the next rebuild
    # can use the ``__next`` names again.
    renames = [(target.name + "_pkey", table.name + "_pkey")]
    renames += [(ahead_name(str(ix.name)), str(ix.name)) for ix in table.indexes]
    for before, after in renames:
        await conn.execute(
            sa.text(f"ALTER INDEX {prep.quote(before)} RENAME TO {prep.quote(after)}")
        )


async def index_ahead(writer: AsyncEngine, chosen: Sequence[Projection]) -> None:
    """On PostgreSQL, index the new tables before the swap (under ``__next`` names), so the
    swap holds its locks (which block queries of the old tables there) only for the drops
    and renames."""
    if writer.dialect.name == "sqlite":
        return
    for p in chosen:
        target = next_table(p.table)
        for ix in p.table.indexes:
            ahead = sa.Index(ahead_name(str(ix.name)), *_retarget(ix, target), unique=ix.unique)
            async with writer.begin() as conn:
                await conn.run_sync(ahead.create)


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
