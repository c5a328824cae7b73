"""The Merkle tree the store maintains in each append's transaction, on both backends."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from events.merkle import (
    ProofError,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from events.port import ANY, NO_STREAM, StreamAppend
from events.sql_store import SqlEventStore
from tests.integration.store.helpers import count_rows, entry_of, ev


async def _leaves(store: SqlEventStore) -> list[bytes]:
    return [leaf_hash(entry_of(e)) for e in await store.read_all(limit=10_000)]


async def test_the_root_covers_every_event_whatever_the_shape_of_the_appends(
    store: SqlEventStore,
) -> None:
    assert await store.tree_root() == (0, root_of([]))
    await store.append("person-a", [ev(n=1)], NO_STREAM)
    await store.append("person-a", [ev(n=i) for i in range(5)], 1)
    await store.append_streams(
        [StreamAppend("person-b", [ev(), ev()], NO_STREAM), StreamAppend("person-c", [ev()], ANY)]
    )
    for i in range(12):  # single events after the store's own append (PostgreSQL's fast path)
        await store.append("person-a", [ev(i=i)], ANY)
    leaves = await _leaves(store)
    assert len(leaves) == 21
    for size in range(22):
        assert await store.tree_root(size) == (size, root_of(leaves[:size]))
    # Every complete subtree once: n leaves + n - popcount(n) interior nodes.
    assert await count_rows(store, "merkle_nodes") == 21 + 21 - bin(21).count("1")


async def test_two_stores_on_one_database_grow_one_tree(store: SqlEventStore) -> None:
    other = SqlEventStore(store.engine)
    try:
        for i in range(6):
            await store.append("person-a", [ev(i=i)], ANY)
            await other.append("person-b", [ev(i=i)], ANY)  # the first store's heads go stale
    finally:
        await other.close()
    await store.append("person-a", [ev()], ANY)
    leaves = await _leaves(store)
    assert await store.tree_root() == (13, root_of(leaves))


async def test_inclusion_and_consistency_proofs_from_the_store_verify(
    store: SqlEventStore,
) -> None:
    for i in range(11):
        await store.append(f"person-{i % 4}", [ev(i=i)], ANY)
    leaves = await _leaves(store)
    for size in (1, 6, 8, 11):
        _, root = await store.tree_root(size)
        for position in range(1, size + 1):
            proof = await store.inclusion_proof(position, size)
            verify_inclusion(leaves[position - 1], position - 1, size, proof, root)
        for old in range(1, size + 1):
            _, old_root = await store.tree_root(old)
            verify_consistency(old, size, old_root, root, await store.consistency_proof(old, size))


async def test_proofs_beyond_the_log_are_refused(store: SqlEventStore) -> None:
    await store.append("person-a", [ev(), ev()], NO_STREAM)
    with pytest.raises(ProofError):
        await store.tree_root(3)
    with pytest.raises(ProofError):
        await store.inclusion_proof(3, 3)
    with pytest.raises(ProofError):
        await store.consistency_proof(1, 3)


async def test_the_head_an_append_leaves_is_the_stored_root(store: SqlEventStore) -> None:
    for i in range(9):
        await store.append(f"person-{i % 2}", [ev(i=i)] * 1, ANY)
        assert await store.tree_head(i + 1) == await store.tree_root()


async def test_a_shared_commit_with_failed_appends_stores_the_tree_of_what_it_wrote(
    store: SqlEventStore,
) -> None:
    taken = ev(n=0)
    await store.append("person-first", [taken], NO_STREAM)
    for _ in range(3):  # appends that fail amid others in one commit, more than once
        results = await asyncio.gather(
            *(store.append(f"person-{uuid4()}", [ev(), ev()], NO_STREAM) for _ in range(3)),
            store.append("person-first", [ev()], NO_STREAM),  # a version conflict
            store.append(f"person-{uuid4()}", [taken], NO_STREAM),  # a duplicate event id
            *(store.append(f"person-{uuid4()}", [ev()], NO_STREAM) for _ in range(3)),
            return_exceptions=True,
        )
        assert [isinstance(r, Exception) for r in results] == [False] * 3 + [True] * 2 + [False] * 3
    leaves = await _leaves(store)
    assert len(leaves) == 1 + 3 * 9
    for size in range(len(leaves) + 1):
        assert await store.tree_root(size) == (size, root_of(leaves[:size]))
    n = len(leaves)
    assert await count_rows(store, "merkle_nodes") == n + n - bin(n).count("1")
    assert await store.tree_head(n) == await store.tree_root()
