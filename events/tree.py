"""The log's Merkle tree in the database: the ``merkle_nodes`` table.

Each committed append also writes, in the same transaction, the nodes its events
complete (``events.merkle``): their leaf hashes and every interior node they close.
To do that it reads the tree's frontier (``range_nodes(0, size)``, at most log2(n)
rows). Roots of any size and proofs read O(log n) nodes (``root_at``, ``inclusion_proof``,
``consistency_proof``).

The leaf of an event hashes ``events.hashing.entry_bytes`` of the row as stored: its
data and metadata JSON text parsed, so the append, the migration that backfills an
existing log, ``ladder verify`` and an auditor's own verifier all hash the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from events.errors import StoreError
from events.hashing import entry_bytes, entry_bytes_at, iso_utc
from events.merkle import (
    CompactTree,
    NodeKey,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    nodes_for,
    range_hash,
    range_nodes,
)
from events.rows import ENTRY_COLUMNS, Memo
from events.schema import events_table as T
from events.schema import merkle_table as N

ENTRY_SELECTION = tuple(T.c[name] for name in ENTRY_COLUMNS)
"""The events table's columns a Merkle entry covers, in row order (``sa.select(*...)``)."""
_ENTRY_LENGTH = len(ENTRY_COLUMNS)

Node = tuple[int, int, bytes]
"""``(level, idx, hash)``: a ``merkle_nodes`` row."""


class TreeDamaged(StoreError):
    """The ``merkle_nodes`` table lacks a node the log's size says it must hold."""

    code = "TREE_DAMAGED"


def row_entry(
    position: int,
    stream: str,
    version: int,
    event_id: UUID,
    type_: str,
    schema_version: int,
    data: str,
    metadata: str,
    recorded_at: datetime,
) -> bytes:
    """``entry_bytes`` of an events row as stored (data and metadata as JSON text)."""
    return entry_bytes(
        position=position,
        event_id=event_id,
        stream=stream,
        version=version,
        type=type_,
        schema_version=schema_version,
        data=orjson.loads(data),
        metadata=orjson.loads(metadata),
        recorded_at=recorded_at,
    )


def row_leaf(row: Sequence[Any]) -> bytes:
    """The leaf hash of a row in ``events.rows.COLUMNS`` order (hash columns ignored)."""
    return leaf_hash(row_entry(*row[:_ENTRY_LENGTH]))


def row_leaves(rows: Iterable[Sequence[Any]]) -> list[bytes]:
    """``[row_leaf(r) for r in rows]``, decoding each distinct metadata text and
    formatting each distinct time once (the rows of one append share them)."""
    metadata = Memo(orjson.loads)
    times: dict[datetime, str] = {}
    out: list[bytes] = []
    for position, stream, version, event_id, type_, sv, data, meta, ts, *_ in rows:
        at = times.get(ts)
        if at is None:
            at = times[ts] = iso_utc(ts)
        entry = entry_bytes_at(
            position, event_id, stream, version, type_, sv, orjson.loads(data), metadata[meta], at
        )
        out.append(leaf_hash(entry))
    return out


def grow(
    size: int, found: Mapping[NodeKey, bytes], leaves: Iterable[bytes]
) -> tuple[CompactTree, list[Node]]:
    """The nodes that appending ``leaves`` to the tree of ``size`` completes, given the
    stored frontier nodes ``found`` (``range_nodes(0, size)``), and the grown tree."""
    keys = range_nodes(0, size)
    missing = [k for k in keys if k not in found]
    if missing:
        level, idx = missing[0]
        raise TreeDamaged(
            f"the Merkle tree has no node (level {level}, index {idx}) for a log of "
            f"{size} events: run ladder verify"
        )
    tree = CompactTree(size, [found[k] for k in keys])
    nodes: list[Node] = []
    for leaf in leaves:
        nodes.extend(tree.append(leaf))
    return tree, nodes


def frontier(size: int) -> list[NodeKey]:
    return range_nodes(0, size)


# --- reading roots and proofs -----------------------------------------------------------


def nodes_where(keys: Iterable[NodeKey]) -> sa.ColumnElement[bool]:
    """A condition matching exactly ``keys`` that uses the primary key: one term per level
    (a range when that level's indexes are contiguous). A row-value ``IN`` list would
    make SQLite scan the whole table."""
    by_level: dict[int, list[int]] = {}
    for level, idx in keys:
        by_level.setdefault(level, []).append(idx)
    terms = []
    for level, idxs in sorted(by_level.items()):
        lo, hi = min(idxs), max(idxs)
        if hi - lo + 1 == len(set(idxs)):
            terms.append(sa.and_(N.c.level == level, N.c.idx.between(lo, hi)))
        else:
            terms.append(sa.and_(N.c.level == level, N.c.idx.in_(sorted(set(idxs)))))
    return sa.or_(*terms)


async def read_nodes(conn: AsyncConnection, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    q = sa.select(N.c.level, N.c.idx, N.c.hash).where(nodes_where(wanted))
    found = {(int(r[0]), int(r[1])): bytes(r[2]) for r in await conn.execute(q)}
    if len(found) != len(wanted):
        level, idx = next(k for k in wanted if k not in found)
        raise TreeDamaged(f"the Merkle tree has no node (level {level}, index {idx})")
    return found


async def tree_size(conn: AsyncConnection) -> int:
    return int(await conn.scalar(sa.select(sa.func.max(T.c.position))) or 0)


async def root_at(conn: AsyncConnection, size: int) -> bytes:
    """The root of the tree over the first ``size`` events (from stored nodes)."""
    return range_hash(0, size, await read_nodes(conn, range_nodes(0, size)))


async def inclusion_proof(conn: AsyncConnection, index: int, size: int) -> list[bytes]:
    """The RFC 9162 inclusion path of leaf ``index`` (position - 1) in the tree of ``size``."""
    ranges = inclusion_ranges(index, size)
    nodes = await read_nodes(conn, nodes_for(ranges))
    return [range_hash(a, b, nodes) for a, b in ranges]


async def inclusion_proofs(
    conn: AsyncConnection, indexes: Sequence[int], size: int
) -> list[list[bytes]]:
    """Inclusion paths of several leaves in one read of their nodes."""
    plans = [inclusion_ranges(i, size) for i in indexes]
    nodes = await read_nodes(conn, nodes_for(r for plan in plans for r in plan))
    return [[range_hash(a, b, nodes) for a, b in plan] for plan in plans]


async def consistency_proof(conn: AsyncConnection, old: int, new: int) -> list[bytes]:
    """The RFC 9162 consistency proof from the tree of size ``old`` to size ``new``."""
    ranges = consistency_ranges(old, new)
    nodes = await read_nodes(conn, nodes_for(ranges))
    return [range_hash(a, b, nodes) for a, b in ranges]


# --- filling the table for an existing log ----------------------------------------------

_BACKFILL_PAGE = 5000


def backfill(conn: sa.Connection) -> int:
    """Build the whole tree of an existing log (run by migration 0003); returns its size.

    Refuses a log whose positions are not 1..n: a tree over a broken log would
    certify it.
    """
    tree = CompactTree()
    after = 0
    while True:
        rows = conn.execute(
            sa.select(*ENTRY_SELECTION)
            .where(T.c.position > after)
            .order_by(T.c.position)
            .limit(_BACKFILL_PAGE)
        ).all()
        if not rows:
            return tree.size
        nodes: list[dict[str, Any]] = []
        for r, leaf in zip(rows, row_leaves(rows), strict=True):
            if r[0] != tree.size + 1:
                raise TreeDamaged(f"position {r[0]} follows {tree.size}: the log has a gap")
            for level, idx, digest in tree.append(leaf):
                nodes.append({"level": level, "idx": idx, "hash": digest})
        conn.execute(N.insert(), nodes)
        after = rows[-1][0]
