"""Appending: versions, expected-version forms, atomicity, positions and listeners."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from events.errors import DuplicateEventId, WrongExpectedVersion
from events.port import ANY, NO_STREAM, Metadata, NewEvent, RecordedEvent, StreamAppend
from events.sql_store import SqlEventStore
from tests.integration.store.helpers import count_rows, ev


async def test_a_new_stream_starts_at_version_one_and_position_one(store: SqlEventStore) -> None:
    assert await store.append("person-a", [ev(n=1), ev(n=2)], NO_STREAM) == [1, 2]
    assert await store.stream_version("person-a") == 2
    assert await store.last_position() == 2
    assert [e.version for e in await store.read_stream("person-a")] == [1, 2]


async def test_an_empty_log_has_position_zero_and_streams_version_zero(
    store: SqlEventStore,
) -> None:
    assert await store.last_position() == 0
    assert await store.stream_version("person-nobody") == 0
    assert await store.read_all() == []
    assert await store.read_stream("person-nobody") == []


async def test_positions_are_global_and_versions_per_stream(store: SqlEventStore) -> None:
    await store.append("person-a", [ev()], NO_STREAM)
    await store.append("person-b", [ev()], NO_STREAM)
    assert await store.append("person-a", [ev()], 1) == [3]
    events = await store.read_all()
    assert [(e.position, e.stream, e.version) for e in events] == [
        (1, "person-a", 1),
        (2, "person-b", 1),
        (3, "person-a", 2),
    ]


async def test_exact_expected_version_must_match(store: SqlEventStore) -> None:
    await store.append("person-a", [ev(), ev()], NO_STREAM)
    with pytest.raises(WrongExpectedVersion) as info:
        await store.append("person-a", [ev()], 1)
    assert info.value.actual == 2
    assert info.value.expected == 1
    assert info.value.code == "CONCURRENCY_CONFLICT"
    assert await store.append("person-a", [ev()], 2) == [3]


async def test_no_stream_fails_when_the_stream_exists(store: SqlEventStore) -> None:
    await store.append("person-a", [ev()], NO_STREAM)
    with pytest.raises(WrongExpectedVersion) as info:
        await store.append("person-a", [ev()], NO_STREAM)
    assert info.value.actual == 1
    assert await count_rows(store) == 1


async def test_expected_version_zero_means_the_stream_is_empty(store: SqlEventStore) -> None:
    assert await store.append("person-a", [ev()], 0) == [1]
    with pytest.raises(WrongExpectedVersion):
        await store.append("person-a", [ev()], 0)


async def test_an_exact_version_on_a_missing_stream_reports_version_zero(
    store: SqlEventStore,
) -> None:
    with pytest.raises(WrongExpectedVersion) as info:
        await store.append("person-a", [ev()], 3)
    assert info.value.actual == 0


async def test_any_appends_whatever_the_version(store: SqlEventStore) -> None:
    assert await store.append("person-a", [ev()], ANY) == [1]
    assert await store.append("person-a", [ev()], ANY) == [2]


async def test_a_conflict_writes_none_of_the_events(store: SqlEventStore) -> None:
    await store.append("person-a", [ev()], NO_STREAM)
    with pytest.raises(WrongExpectedVersion):
        await store.append("person-a", [ev(), ev(), ev()], 0)
    assert await count_rows(store) == 1


async def test_a_multi_stream_append_is_atomic(store: SqlEventStore) -> None:
    await store.append("person-mentor", [ev()], NO_STREAM)
    positions = await store.append_streams(
        [
            StreamAppend("person-mentor", [ev("MentorshipStarted")], 1),
            StreamAppend("person-mentee", [ev("MentorshipStarted"), ev()], NO_STREAM),
        ]
    )
    assert positions == [2, 3, 4]
    assert await store.stream_version("person-mentor") == 2
    assert await store.stream_version("person-mentee") == 2


async def test_a_conflict_on_one_stream_writes_nothing_to_any(store: SqlEventStore) -> None:
    await store.append("person-mentor", [ev(), ev()], NO_STREAM)
    with pytest.raises(WrongExpectedVersion) as info:
        await store.append_streams(
            [
                StreamAppend("person-mentee", [ev()], NO_STREAM),
                StreamAppend("person-mentor", [ev()], 1),
            ]
        )
    assert info.value.stream == "person-mentor"
    assert info.value.actual == 2
    assert await count_rows(store) == 2
    assert await store.stream_version("person-mentee") == 0


async def test_a_recorded_event_keeps_everything_that_was_appended(store: SqlEventStore) -> None:
    new = NewEvent("PromotionRecorded", {"to": "L4", "nested": {"b": [1, 2.5, None]}}, 2)
    meta = Metadata(actor_id="u1", actor_role="manager", correlation_id="c1", causation_id="x")
    before = datetime.now(UTC)
    await store.append("person-a", [new], NO_STREAM, metadata=meta)
    [got] = await store.read_stream("person-a")
    assert got.event_id == new.event_id
    assert got.type == "PromotionRecorded"
    assert got.schema_version == 2
    assert got.data == {"to": "L4", "nested": {"b": [1, 2.5, None]}}
    assert got.metadata == meta.as_dict()
    assert got.recorded_at.tzinfo is not None
    assert before <= got.recorded_at <= datetime.now(UTC)
    assert got.prev_hash is None
    assert len(got.hash) == 64


async def test_recorded_at_never_goes_backwards(store: SqlEventStore) -> None:
    for _ in range(20):
        await store.append("person-a", [ev()], ANY)
    times = [e.recorded_at for e in await store.read_all()]
    assert times == sorted(times)


async def test_an_event_id_already_recorded_is_refused(store: SqlEventStore) -> None:
    first = ev()
    await store.append("person-a", [first], NO_STREAM)
    with pytest.raises(DuplicateEventId):
        await store.append("person-b", [ev(), first], NO_STREAM)
    assert await count_rows(store) == 1


async def test_listeners_receive_the_committed_events(store: SqlEventStore) -> None:
    seen: list[list[RecordedEvent]] = []

    async def listener(events: list[RecordedEvent]) -> None:
        seen.append(events)

    store.add_listener(listener)
    await store.append("person-a", [ev(n=1), ev(n=2)], NO_STREAM)
    assert [[(e.position, e.data) for e in batch] for batch in seen] == [
        [(1, {"n": 1}), (2, {"n": 2})]
    ]
    assert seen[0] == await store.read_all()


async def test_a_failing_listener_does_not_undo_the_append(
    store: SqlEventStore, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(events: list[RecordedEvent]) -> None:
        raise RuntimeError("boom")

    store.add_listener(broken)
    assert await store.append("person-a", [ev()], NO_STREAM) == [1]
    assert await store.last_position() == 1
    assert "boom" in caplog.text


async def test_concurrent_appends_with_the_same_expected_version_let_one_win(
    store: SqlEventStore,
) -> None:
    await store.append("person-a", [ev()], NO_STREAM)
    results = await asyncio.gather(
        *(store.append("person-a", [ev()], 1) for _ in range(5)), return_exceptions=True
    )
    assert sum(isinstance(r, list) for r in results) == 1
    assert all(isinstance(r, list | WrongExpectedVersion) for r in results)
    assert await store.stream_version("person-a") == 2


async def test_a_part_without_events_checks_that_its_stream_did_not_move(
    store: SqlEventStore,
) -> None:
    await store.append("person-read", [NewEvent("X", {})], NO_STREAM)
    checked = [
        StreamAppend("person-write", [NewEvent("X", {})], NO_STREAM),
        StreamAppend("person-read", [], 1),
    ]
    assert await store.append_streams(checked) == [2]
    await store.append("person-read", [NewEvent("X", {})], 1)
    moved = [
        StreamAppend("person-write", [NewEvent("X", {})], 1),
        StreamAppend("person-read", [], 1),
    ]
    with pytest.raises(WrongExpectedVersion):
        await store.append_streams(moved)
    assert await store.last_position() == 3
    assert [e.version for e in await store.read_stream("person-read")] == [1, 2]
