from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from events.notifier import Notifier, follow
from events.port import RecordedEvent
from events.sql_store import SqlEventStore
from tests.integration.readmodels.builders import Person, record
from tests.support import backend


async def hire(store: SqlEventStore, n: int) -> None:
    for i in range(n):
        await record(store, Person(f"P{i}").hired(date(2020, 1, 6)))


async def collect(
    store: SqlEventStore, after: int, notifier: Notifier, count: int, poll: float = 5.0
) -> list[int]:
    seen: list[int] = []
    async for event in follow(store, after, notifier, poll_interval=poll):
        seen.append(event.position)
        if len(seen) == count:
            break
    return seen


async def test_follow_replays_then_follows_live_with_no_gap_and_no_duplicate(
    store: SqlEventStore,
) -> None:
    notifier = Notifier()
    store.add_listener(notifier.on_append)
    await hire(store, 3)
    follower = asyncio.create_task(collect(store, 1, notifier, 21))
    await hire(store, 19)  # appended while the follower replays and then waits
    assert await asyncio.wait_for(follower, 10) == list(range(2, 23))


async def test_follow_applies_the_filter_and_still_wakes_on_other_events(
    store: SqlEventStore,
) -> None:
    notifier = Notifier()
    store.add_listener(notifier.on_append)
    await hire(store, 4)

    def even(event: RecordedEvent) -> bool:
        return event.position % 2 == 0

    async def evens() -> list[int]:
        seen: list[int] = []
        async for event in follow(store, 0, notifier, even, poll_interval=5.0):
            seen.append(event.position)
            if len(seen) == 3:
                return seen
        return seen

    task = asyncio.create_task(evens())
    await hire(store, 2)
    assert await asyncio.wait_for(task, 10) == [2, 4, 6]


async def test_a_follower_without_wake_ups_catches_up_by_polling(store: SqlEventStore) -> None:
    silent = Notifier()  # not attached to the store: only polling can find new events
    task = asyncio.create_task(collect(store, 0, silent, 2, poll=0.05))
    await hire(store, 2)
    assert await asyncio.wait_for(task, 10) == [1, 2]


async def test_a_slow_follower_holds_back_neither_writers_nor_other_followers(
    store: SqlEventStore,
) -> None:
    notifier = Notifier()
    store.add_listener(notifier.on_append)
    slow = follow(store, 0, notifier)
    await hire(store, 1)
    assert (await anext(slow)).position == 1  # then it stops consuming
    fast = asyncio.create_task(collect(store, 0, notifier, 30))
    await asyncio.wait_for(hire(store, 29), 10)
    assert await asyncio.wait_for(fast, 10) == list(range(1, 31))
    await slow.aclose()


async def test_processes_learn_of_each_others_appends_over_postgres(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    if backend(engine) != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    writer, reader = Notifier(), Notifier()
    await writer.listen(engine.url)
    await reader.listen(engine.url)
    try:
        store.add_listener(writer.on_append)
        await hire(store, 1)
        assert await reader.wait(0, at_most=5) >= 1
    finally:
        await writer.close()
        await reader.close()


async def test_another_schemas_log_does_not_silence_this_one(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    if backend(engine) != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    reader, stranger = Notifier(), Notifier()
    await reader.listen(engine.url, schema="this_log")
    await stranger.listen(engine.url, schema="other_log")
    writer = Notifier()
    await writer.listen(engine.url, schema="this_log")
    try:
        await stranger.on_append([_at(1_000_000)])
        await asyncio.sleep(0.2)
        assert reader.position == 0
        store.add_listener(writer.on_append)
        await hire(store, 1)
        assert await reader.wait(0, at_most=5) == 1
    finally:
        for n in (reader, stranger, writer):
            await n.close()


async def test_a_dropped_listener_connection_comes_back(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    if backend(engine) != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    writer, reader = Notifier(), Notifier(reconnect_delay=0.1)
    await writer.listen(engine.url, schema="s")
    await reader.listen(engine.url, schema="s")
    try:
        pid = reader._listener.get_server_pid()
        await writer._listener.execute("SELECT pg_terminate_backend($1)", pid)
        for _ in range(100):
            if reader.listening and reader._listener.get_server_pid() != pid:
                break
            await asyncio.sleep(0.05)
        assert reader.listening
        store.add_listener(writer.on_append)
        await hire(store, 1)
        assert await reader.wait(0, at_most=5) >= 1
    finally:
        await writer.close()
        await reader.close()


def _at(position: int) -> RecordedEvent:
    from datetime import UTC, datetime
    from uuid import uuid4

    return RecordedEvent(
        position=position,
        stream="person-x",
        version=1,
        event_id=uuid4(),
        type="PersonHired",
        schema_version=1,
        data={},
        metadata={},
        recorded_at=datetime.now(UTC),
        hash="",
        prev_hash=None,
    )
