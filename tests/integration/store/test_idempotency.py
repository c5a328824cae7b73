"""An append whose idempotency key was recorded returns the original positions."""

from __future__ import annotations

import asyncio

import pytest

from events.errors import WrongExpectedVersion
from events.port import NO_STREAM, Metadata, StreamAppend
from events.sql_store import SqlEventStore, create_store
from tests.integration.store.helpers import count_rows, ev


def key(k: str) -> Metadata:
    return Metadata(actor_id="u1", idempotency_key=k)


async def test_a_repeated_append_returns_the_original_positions(store: SqlEventStore) -> None:
    first = await store.append("person-a", [ev(), ev()], NO_STREAM, metadata=key("req-1"))
    again = await store.append("person-a", [ev(), ev()], NO_STREAM, metadata=key("req-1"))
    assert first == again == [1, 2]
    assert await count_rows(store) == 2


async def test_a_replay_skips_the_expected_version_check(store: SqlEventStore) -> None:
    await store.append("person-a", [ev()], NO_STREAM, metadata=key("req-1"))
    await store.append("person-a", [ev()], 1)
    assert await store.append("person-a", [ev()], NO_STREAM, metadata=key("req-1")) == [1]
    assert await count_rows(store) == 2


async def test_a_different_key_appends_again(store: SqlEventStore) -> None:
    await store.append("person-a", [ev()], "any", metadata=key("req-1"))
    assert await store.append("person-a", [ev()], "any", metadata=key("req-2")) == [2]


async def test_a_multi_stream_append_is_idempotent_too(store: SqlEventStore) -> None:
    appends = [StreamAppend("person-a", [ev()], NO_STREAM), StreamAppend("person-b", [ev()], 0)]
    assert await store.append_streams(appends, metadata=key("pair")) == [1, 2]
    assert await store.append_streams(appends, metadata=key("pair")) == [1, 2]
    assert await count_rows(store) == 2


async def test_a_failed_append_does_not_record_its_key(store: SqlEventStore) -> None:
    await store.append("person-a", [ev()], NO_STREAM)
    with pytest.raises(WrongExpectedVersion):
        await store.append("person-a", [ev()], NO_STREAM, metadata=key("req-1"))
    assert await store.append("person-a", [ev()], 1, metadata=key("req-1")) == [2]


async def test_racing_identical_requests_write_once(store: SqlEventStore) -> None:
    results = await asyncio.gather(
        *(store.append("person-a", [ev()], "any", metadata=key("race")) for _ in range(10))
    )
    assert all(r == [1] for r in results)
    assert await count_rows(store) == 1


async def test_racing_identical_requests_through_separate_stores_write_once(
    store: SqlEventStore, db_url: str
) -> None:
    others = [await create_store(db_url, migrate=False) for _ in range(4)]
    try:
        results = await asyncio.gather(
            *(
                s.append("person-a", [ev()], "any", metadata=key("race"))
                for s in [store, *others]
                for _ in range(3)
            )
        )
    finally:
        for s in others:
            await s.close()
    assert all(r == [1] for r in results)
    assert await count_rows(store) == 1
    assert await count_rows(store, "idempotency_keys") == 1
