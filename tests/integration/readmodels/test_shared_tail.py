"""The log's shared tail (``api.tail``): live subscribers cost one read per wake-up, not one
per subscriber, and still get every event once, in order, replay and live alike."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date

from api.streaming import follow
from events.notifier import Notifier
from events.port import RecordedEvent
from events.sql_store import SqlEventStore
from tests.integration.readmodels.builders import Person, record


class CountedReads:
    """The real store, counting the log reads made through it."""

    def __init__(self, store: SqlEventStore) -> None:
        self.store = store
        self.reads = 0

    async def read_all(
        self, after_position: int = 0, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        self.reads += 1
        return await self.store.read_all(after_position, limit, types)

    async def last_position(self) -> int:
        return await self.store.last_position()


async def hire(store: SqlEventStore, first: int, n: int) -> None:
    for i in range(first, first + n):
        await record(store, Person(f"P{i}").hired(date(2020, 1, 6)))


async def collect(
    counted: CountedReads, after: int, notifier: Notifier, count: int, types: list[str] | None
) -> list[int]:
    seen: list[int] = []
    store: object = counted
    async for event in follow(store, after, notifier, types=types):  # type: ignore[arg-type]
        seen.append(event.position)
        if len(seen) == count:
            break
    return seen


async def test_a_hundred_live_followers_cost_one_read_per_wake_up(store: SqlEventStore) -> None:
    notifier = Notifier()
    store.add_listener(notifier.on_append)
    await hire(store, 0, 3)
    counted = CountedReads(store)
    # Three kinds of follower (all events, hires, hires or promotions), so reads shared
    # only between identical queries would still cost three per wake-up.
    kinds: list[list[str] | None] = [None, ["PersonHired"], ["PersonHired", "PromotionRecorded"]]
    followers = [
        asyncio.create_task(collect(counted, 3, notifier, 10, kinds[i % 3])) for i in range(100)
    ]
    await asyncio.sleep(0.2)  # every follower is waiting at the tail
    before = counted.reads
    for i in range(10):
        await hire(store, 3 + i, 1)
        await asyncio.sleep(0.02)  # one wake-up per append
    results = await asyncio.wait_for(asyncio.gather(*followers), 10)
    assert all(r == list(range(4, 14)) for r in results)
    assert counted.reads - before <= 10 + 3  # one per append (and a poll), not 3 or 100 x 10


async def test_a_replay_joins_the_live_tail_with_no_gap_and_no_duplicate(
    store: SqlEventStore,
) -> None:
    notifier = Notifier()
    store.add_listener(notifier.on_append)
    await hire(store, 0, 30)
    counted = CountedReads(store)
    live = asyncio.create_task(collect(counted, 30, notifier, 20, None))
    await asyncio.sleep(0.1)
    replays = [
        asyncio.create_task(collect(counted, after, notifier, 50 - after, None))
        for after in (0, 7, 29)
    ]
    typed = asyncio.create_task(collect(counted, 0, notifier, 50, ["PersonHired"]))
    await hire(store, 30, 20)  # appended while the replays read and the tail follows
    assert await asyncio.wait_for(live, 10) == list(range(31, 51))
    for after, task in zip((0, 7, 29), replays, strict=True):
        assert await asyncio.wait_for(task, 10) == list(range(after + 1, 51))
    assert await asyncio.wait_for(typed, 10) == list(range(1, 51))
