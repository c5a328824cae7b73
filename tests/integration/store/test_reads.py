"""Reading a stream by version range and the log by position."""

from __future__ import annotations

import asyncio

from events.port import ANY, NO_STREAM
from events.sql_store import SqlEventStore
from tests.integration.store.helpers import ev


async def _five_in_a_and_b(store: SqlEventStore) -> None:
    for i in range(5):
        await store.append("person-a", [ev("A", i=i)], ANY)
        await store.append("person-b", [ev("B", i=i)], ANY)


async def test_read_stream_honours_from_and_to_versions(store: SqlEventStore) -> None:
    await _five_in_a_and_b(store)
    assert [e.version for e in await store.read_stream("person-a", 2, 4)] == [2, 3, 4]
    assert [e.version for e in await store.read_stream("person-a", 4)] == [4, 5]
    assert [e.data["i"] for e in await store.read_stream("person-b", to_version=2)] == [0, 1]
    assert await store.read_stream("person-a", 6) == []


async def test_read_all_pages_by_position(store: SqlEventStore) -> None:
    await _five_in_a_and_b(store)
    first = await store.read_all(limit=4)
    assert [e.position for e in first] == [1, 2, 3, 4]
    rest = await store.read_all(after_position=first[-1].position, limit=100)
    assert [e.position for e in rest] == list(range(5, 11))
    assert await store.read_all(after_position=10) == []


async def test_read_all_filters_by_type(store: SqlEventStore) -> None:
    await _five_in_a_and_b(store)
    only_b = await store.read_all(types=["B"])
    assert [e.position for e in only_b] == [2, 4, 6, 8, 10]
    assert [e.position for e in await store.read_all(after_position=4, types=["B"], limit=2)] == [
        6,
        8,
    ]
    assert await store.read_all(types=[]) == []


async def test_reads_see_the_same_event_as_append_wrote(store: SqlEventStore) -> None:
    await store.append("ladder-product", [ev("LadderPublished", levels=["L1", "L2"])], NO_STREAM)
    [from_stream] = await store.read_stream("ladder-product")
    [from_log] = await store.read_all()
    assert from_stream == from_log


async def test_reads_asked_together_each_get_their_own_answer(store: SqlEventStore) -> None:
    await _five_in_a_and_b(store)
    a, b, last_b, log = await asyncio.gather(
        store.read_stream("person-a"),
        store.read_stream("person-b", 3),
        store.last_position_of("B"),
        store.read_all(after_position=8),
    )
    assert [e.data["i"] for e in a] == [0, 1, 2, 3, 4]
    assert [e.version for e in b] == [3, 4, 5]
    assert last_b == 10
    assert [e.position for e in log] == [9, 10]


async def test_a_read_that_fails_fails_alone_among_reads_asked_together(
    store: SqlEventStore,
) -> None:
    await _five_in_a_and_b(store)
    # A value no index can hold: the driver refuses this one read (an integer beyond
    # 64 bits) while the reads asked in the same turn are answered.
    too_big = 2**70
    results = await asyncio.gather(
        store.read_stream("person-a"),
        store.read_all(after_position=too_big),
        store.last_position_of("A"),
        return_exceptions=True,
    )
    assert [e.version for e in results[0]] == [1, 2, 3, 4, 5]  # type: ignore[union-attr]
    assert isinstance(results[1], Exception)
    assert results[2] == 9
