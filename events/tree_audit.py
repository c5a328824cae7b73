"""Checking the Merkle tree against the events, and the events against signed checkpoints.

The per-stream hash chain cannot see a chain re-forged by someone who can write the
database, a deleted tail, a renumbered position or a changed event id. A checkpoint
signed when the log was sound and kept outside the database can: ``audit_tree``
recomputes every leaf from the events as stored, rebuilds the tree, and compares

* every stored node with the recomputed one (the proofs the store serves come from them),
* the root over the first ``size`` events with each checkpoint's signed root,
* the log's size with each checkpoint's size (a shorter log lost events).

Findings are graded as auditors' tooling grades them: ``manipulation`` (a hash or
signature does not match), ``gap`` (missing or reordered events), ``notice``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from events.merkle import CompactTree, NodeKey, leaf_hash
from events.schema import events_table as T
from events.schema import merkle_table as N
from events.tlog import Checkpoint
from events.tree import ENTRY_SELECTION, nodes_where, row_leaf, row_leaves

Grade = Literal["manipulation", "gap", "notice"]
_PAGE = 2000


@dataclass(frozen=True, slots=True)
class Finding:
    grade: Grade
    text: str

    def line(self) -> str:
        return f"{self.grade}: {self.text}"


@dataclass(slots=True)
class TreeReport:
    size: int = 0
    root: bytes = b""
    """The root recomputed from the events (not read from the stored nodes)."""
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.grade == "notice" for f in self.findings)


def expected_nodes(size: int) -> int:
    """How many complete subtrees a tree of ``size`` leaves has."""
    return 2 * size - size.bit_count() if size else 0


async def audit_tree(
    engine: AsyncEngine,
    checkpoints: Sequence[Checkpoint] = (),
    *,
    progress: Callable[[int, int], None] | None = None,
) -> TreeReport:
    """Rebuild the tree from the events and compare (see the module doc)."""
    report = TreeReport()
    wanted = {c.size for c in checkpoints}
    roots: dict[int, bytes] = {}
    tree = CompactTree()
    if 0 in wanted:
        roots[0] = tree.root()
    async with engine.connect() as conn:
        total = int(await conn.scalar(sa.select(sa.func.count()).select_from(T)) or 0)
    after = 0
    node_fault = False
    while True:
        q = (
            sa.select(*ENTRY_SELECTION)
            .where(T.c.position > after)
            .order_by(T.c.position)
            .limit(_PAGE)
        )
        async with engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        if not rows:
            break
        built: dict[NodeKey, bytes] = {}
        for r, leaf in zip(rows, _leaves(rows, report), strict=True):
            if r[0] != tree.size + 1:
                report.findings.append(
                    Finding(
                        "gap",
                        f"position {r[0]} follows {tree.size}: an event was deleted, "
                        "inserted or reordered",
                    )
                )
            for level, idx, digest in tree.append(leaf):
                built[(level, idx)] = digest
            if tree.size in wanted:
                roots[tree.size] = tree.root()
        if not node_fault:
            node_fault = await _compare_nodes(engine, built, report)
        after = rows[-1][0]
        if progress is not None:
            progress(tree.size, max(total, tree.size))
    report.size, report.root = tree.size, tree.root()
    async with engine.connect() as conn:
        stored = int(await conn.scalar(sa.select(sa.func.count()).select_from(N)) or 0)
    if not node_fault and stored != expected_nodes(tree.size):
        report.findings.append(
            Finding(
                "gap",
                f"the Merkle tree has {stored} nodes where {tree.size} events make "
                f"{expected_nodes(tree.size)}: events were deleted from, or added to, "
                "the log behind the store",
            )
        )
    _against_checkpoints(report, checkpoints, roots)
    return report


def _leaves(rows: Sequence[Any], report: TreeReport) -> list[bytes]:
    try:
        return row_leaves(rows)
    except orjson.JSONDecodeError:
        return [_leaf(tuple(r), report) for r in rows]


def _leaf(row: tuple[Any, ...], report: TreeReport) -> bytes:
    try:
        return row_leaf(row)
    except orjson.JSONDecodeError:
        report.findings.append(
            Finding("manipulation", f"event at position {row[0]}: data or metadata is not JSON")
        )
        return leaf_hash(b"")


async def _compare_nodes(
    engine: AsyncEngine, built: dict[NodeKey, bytes], report: TreeReport
) -> bool:
    """Compare the stored nodes with ``built``; report the first that differs."""
    keys = sorted(built)
    async with engine.connect() as conn:
        q = sa.select(N.c.level, N.c.idx, N.c.hash).where(nodes_where(keys))
        stored = {(int(r[0]), int(r[1])): bytes(r[2]) for r in await conn.execute(q)}
    for key in sorted(keys, key=lambda k: ((k[1] + 1) << k[0], k[0])):  # leaf first
        level, idx = key
        if stored.get(key) == built[key]:
            continue
        what = (
            f"the Merkle leaf of the event at position {idx + 1}"
            if level == 0
            else f"the Merkle node over positions {(idx << level) + 1}-{(idx + 1) << level}"
        )
        state = "is missing" if key not in stored else "does not match the events"
        report.findings.append(
            Finding("manipulation", f"{what} {state}: the event or the tree was changed")
        )
        return True
    return False


def _against_checkpoints(
    report: TreeReport, checkpoints: Sequence[Checkpoint], roots: dict[int, bytes]
) -> None:
    """One finding for the first checkpoint that fails each way (and how many more do)."""
    short = [c for c in checkpoints if c.size > report.size]
    differ = [c for c in checkpoints if c.size <= report.size and roots.get(c.size) != c.root]
    if short:
        c = min(short, key=lambda c: c.size)
        report.findings.append(
            Finding(
                "gap",
                f"the log has {report.size} events but {_signed(c)} covers {c.size}"
                f"{_more(short)}: events were deleted or the log was truncated",
            )
        )
    if differ:
        c = min(differ, key=lambda c: c.size)
        report.findings.append(
            Finding(
                "manipulation",
                f"the first {c.size} events do not match {_signed(c)}{_more(differ)}: an "
                "event was changed, deleted, inserted or reordered (the root differs)",
            )
        )
    if checkpoints:
        covered = max(c.size for c in checkpoints)
        if covered < report.size:
            report.findings.append(
                Finding(
                    "notice",
                    f"events {covered + 1}-{report.size} are not covered by any checkpoint given",
                )
            )


def _signed(c: Checkpoint) -> str:
    return f"the checkpoint of {c.size} events" + (
        f" signed {c.time.isoformat()}" if c.time else ""
    )


def _more(failed: Sequence[Checkpoint]) -> str:
    return f" (and {len(failed) - 1} later checkpoint(s))" if len(failed) > 1 else ""
