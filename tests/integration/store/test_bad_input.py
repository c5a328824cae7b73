"""Bad input raises a typed error and writes nothing."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import uuid4

import pytest

from events.errors import (
    DuplicateEventId,
    EmptyAppend,
    EventNotSerializable,
    EventTooLarge,
    InvalidExpectedVersion,
    InvalidStreamName,
    StoreInputError,
)
from events.port import MAX_EVENT_BYTES, NO_STREAM, NewEvent, StreamAppend
from events.sql_store import SqlEventStore
from tests.integration.store.helpers import count_rows, ev

BAD_STREAMS = ["", "person", "Person-1", "1person-x", "person-", "person-a b", "person-é", "-x"]


@pytest.mark.parametrize("stream", BAD_STREAMS)
async def test_a_malformed_stream_name_is_refused(store: SqlEventStore, stream: str) -> None:
    with pytest.raises(InvalidStreamName) as info:
        await store.append(stream, [ev()], NO_STREAM)
    assert info.value.code == "INVALID_STREAM_NAME"
    assert info.value.field == "stream"
    assert await count_rows(store) == 0


@pytest.mark.parametrize("expected", [-1, "none", "NO_STREAM", None, 1.0, True, [1]])
async def test_an_unknown_expected_version_form_is_refused(
    store: SqlEventStore, expected: Any
) -> None:
    with pytest.raises(InvalidExpectedVersion) as info:
        await store.append("person-a", [ev()], expected)
    assert info.value.field == "expectedVersion"
    assert await count_rows(store) == 0


@pytest.mark.parametrize(
    "data",
    [
        {"when": date(2024, 1, 1), "bad": object()},
        {"set": {1, 2}},
        {1: "non-string key"},
        {"huge": 2**70},
    ],
    ids=["object", "set", "int-key", "big-int"],
)
async def test_data_that_is_not_json_is_refused(store: SqlEventStore, data: Any) -> None:
    with pytest.raises(EventNotSerializable) as info:
        await store.append("person-a", [ev(), NewEvent("X", data)], NO_STREAM)
    assert info.value.code == "EVENT_NOT_SERIALIZABLE"
    assert await count_rows(store) == 0


async def test_data_over_64_kib_is_refused(store: SqlEventStore) -> None:
    big = NewEvent("X", {"s": "x" * MAX_EVENT_BYTES})
    with pytest.raises(EventTooLarge) as info:
        await store.append("person-a", [big], NO_STREAM)
    assert info.value.field == "data"
    assert await count_rows(store) == 0


async def test_data_of_exactly_64_kib_is_accepted(store: SqlEventStore) -> None:
    just = NewEvent("X", {"s": "x" * (MAX_EVENT_BYTES - len('{"s":""}'))})
    assert await store.append("person-a", [just], NO_STREAM) == [1]


async def test_an_empty_event_list_is_refused(store: SqlEventStore) -> None:
    with pytest.raises(EmptyAppend):
        await store.append("person-a", [], NO_STREAM)
    with pytest.raises(EmptyAppend):
        await store.append_streams([])
    with pytest.raises(EmptyAppend):
        await store.append_streams([StreamAppend("person-a", [ev()]), StreamAppend("person-b", [])])
    assert await count_rows(store) == 0


@pytest.mark.parametrize(
    "events",
    [
        [NewEvent("", {})],
        [NewEvent("X", {}, schema_version=0)],
        [{"type": "X", "data": {}}],
        "not a list",
    ],
    ids=["empty-type", "schema-version-0", "not-a-new-event", "string"],
)
async def test_malformed_events_are_refused(store: SqlEventStore, events: Any) -> None:
    with pytest.raises(StoreInputError):
        await store.append("person-a", events, NO_STREAM)
    assert await count_rows(store) == 0


async def test_one_stream_twice_in_one_append_is_refused(store: SqlEventStore) -> None:
    with pytest.raises(StoreInputError):
        await store.append_streams(
            [StreamAppend("person-a", [ev()]), StreamAppend("person-a", [ev()])]
        )
    assert await count_rows(store) == 0


async def test_one_event_id_twice_in_one_append_is_refused(store: SqlEventStore) -> None:
    same = uuid4()
    with pytest.raises(DuplicateEventId):
        await store.append(
            "person-a", [NewEvent("X", {}, event_id=same), NewEvent("Y", {}, event_id=same)], 0
        )
    assert await count_rows(store) == 0


async def test_reads_refuse_a_malformed_stream_name(store: SqlEventStore) -> None:
    with pytest.raises(InvalidStreamName):
        await store.read_stream("no dash")
