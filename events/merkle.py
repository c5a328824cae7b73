"""The log's Merkle tree, exactly as RFC 6962 section 2.1 (RFC 9162 section 2.1) shapes it.

Leaves are the events in position order (leaf index = position - 1); a leaf hash is
``SHA-256(0x00 || entry bytes)``, an interior node ``SHA-256(0x01 || left || right)``,
and a tree whose size is not a power of two is split at the largest power of two
below its size (no duplicated nodes on odd levels).

The store keeps every *complete aligned subtree*: node ``(level, index)`` is the hash of
leaves ``[index * 2**level, (index + 1) * 2**level)``. Every range RFC 6962's recursion
visits starts at a multiple of the largest power of two not above its length, so it is
the concatenation of at most ``log2(n)`` stored nodes (``range_nodes``). A root of any
size and every proof are therefore O(log n) node reads: plan the ranges (pure), read
their nodes, fold them (``range_hash``).

Pure and stdlib only: the offline verifier uses the ``verify_*`` functions with no
database at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree (RFC 9162: the hash of the empty string)."""

NodeKey = tuple[int, int]
"""``(level, index)``: the complete subtree over leaves ``[index << level, (index+1) << level)``."""

Range = tuple[int, int]
"""Leaves ``[start, end)``."""


class ProofError(ValueError):
    """A proof does not verify, or was asked for sizes that make no sense."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- planning: which stored nodes a range, a root or a proof needs -----------------------


def range_nodes(start: int, end: int) -> list[NodeKey]:
    """The stored nodes whose concatenation is leaves ``[start, end)``, left to right.

    ``start`` must be a multiple of the largest power of two not above ``end - start``,
    as it is for every range of RFC 6962's recursion (and for ``[0, n)``).
    """
    if not 0 <= start <= end:
        raise ValueError(f"bad range [{start}, {end})")
    keys: list[NodeKey] = []
    size, at = end - start, start
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            if at % (1 << level):
                raise ValueError(f"range [{start}, {end}) is not aligned")
            keys.append((level, at >> level))
            at += 1 << level
    return keys


def range_hash(start: int, end: int, nodes: Mapping[NodeKey, bytes]) -> bytes:
    """MTH of leaves ``[start, end)`` from their ``range_nodes`` (folded right to left)."""
    keys = range_nodes(start, end)
    if not keys:
        return EMPTY_ROOT
    digest = nodes[keys[-1]]
    for key in reversed(keys[:-1]):
        digest = node_hash(nodes[key], digest)
    return digest


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose hashes make the inclusion path of leaf ``index`` (RFC 9162 2.1.3.1),
    in proof order (the leaf's sibling first)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    path: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo += k
    path.reverse()
    return path


def consistency_ranges(old: int, new: int) -> list[Range]:
    """The ranges whose hashes make the consistency proof from size ``old`` to ``new``
    (RFC 9162 2.1.4.1), in proof order. Empty when the sizes are equal."""
    if not 0 < old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    path: list[Range] = []
    lo, hi, m, whole = 0, new, old, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        path.append((lo, hi))
    path.reverse()
    return path


def nodes_for(ranges: Iterable[Range]) -> set[NodeKey]:
    """Every stored node the ranges need (what a store reads to serve them)."""
    return {key for start, end in ranges for key in range_nodes(start, end)}


# --- building ---------------------------------------------------------------------------


class CompactTree:
    """The right edge of a tree (its ``range_nodes(0, size)``): appends leaves, reports
    the nodes each append completes, gives the root. O(log n) memory.

    ``CompactTree(size, frontier)`` resumes a tree from the stored hashes of
    ``range_nodes(0, size)``, in that order.
    """

    def __init__(self, size: int = 0, frontier: Sequence[bytes] = ()) -> None:
        keys = range_nodes(0, size)
        if len(keys) != len(frontier):
            raise ValueError(f"a tree of size {size} has {len(keys)} frontier nodes")
        self.size = size
        self._stack: list[tuple[int, bytes]] = [
            (level, digest) for (level, _), digest in zip(keys, frontier, strict=True)
        ]

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return the nodes ``(level, index, hash)`` it completes,
        the leaf itself first."""
        index = self.size
        self.size += 1
        level, digest = 0, leaf
        done = [(0, index, leaf)]
        while self._stack and self._stack[-1][0] == level:
            _, left = self._stack.pop()
            digest = node_hash(left, digest)
            level += 1
            index >>= 1
            done.append((level, index, digest))
        self._stack.append((level, digest))
        return done

    def copy(self) -> CompactTree:
        twin = CompactTree()
        twin.size = self.size
        twin._stack = list(self._stack)
        return twin

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        digest = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            digest = node_hash(left, digest)
        return digest


def root_of(leaves: Iterable[bytes]) -> bytes:
    """The root over these leaf hashes."""
    tree = CompactTree()
    for leaf in leaves:
        tree.append(leaf)
    return tree.root()


# --- verifying (RFC 9162 2.1.3.2 and 2.1.4.2) -----------------------------------------------

HASH_SIZE = 32


def _check_lengths(*hashes: bytes) -> None:
    if any(len(h) != HASH_SIZE for h in hashes):
        raise ProofError(f"a hash is not {HASH_SIZE} bytes")


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ``ProofError`` unless ``proof`` shows leaf hash ``leaf`` at ``index`` in
    the tree of ``size`` whose root is ``root``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    _check_lengths(leaf, root, *proof)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    if r != root:
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ``ProofError`` unless ``proof`` shows the tree of size ``new`` with root
    ``new_root`` extends the tree of size ``old`` with root ``old_root``."""
    if old > new:
        raise ProofError(f"size {old} is larger than size {new}")
    if old == 0:
        raise ProofError("nothing to prove from the empty tree")
    if old == new:
        if proof:
            raise ProofError("equal sizes take an empty proof")
        if old_root != new_root:
            raise ProofError("equal sizes with different roots")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    _check_lengths(old_root, new_root, *proof)
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != old_root:
        raise ProofError("the consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("the consistency proof does not lead to the new root")
