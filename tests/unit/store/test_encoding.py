"""Input checks run before any I/O."""

from __future__ import annotations

from typing import Any

import pytest

from events.encoding import (
    check_expected_version,
    check_stream,
    encode_event,
    encode_metadata,
    plan_appends,
)
from events.errors import (
    EmptyAppend,
    EventNotSerializable,
    EventTooLarge,
    InvalidExpectedVersion,
    InvalidStreamName,
    StoreInputError,
)
from events.port import ANY, MAX_EVENT_BYTES, NO_STREAM, Metadata, NewEvent, StreamAppend


@pytest.mark.parametrize(
    "stream", ["person-3f2a", "ladder-product", "person-a_b.c:d-e", "x1-Y", "a-" + "x" * 253]
)
def test_well_formed_stream_names_pass(stream: str) -> None:
    assert check_stream(stream) == stream


@pytest.mark.parametrize(
    "stream", ["person", "Person-a", "person-", "person-a/b", "a-" + "x" * 254, None, 7]
)
def test_malformed_stream_names_fail(stream: Any) -> None:
    with pytest.raises(InvalidStreamName):
        check_stream(stream)


@pytest.mark.parametrize("expected", [0, 1, 10**12, NO_STREAM, ANY])
def test_expected_version_forms(expected: Any) -> None:
    assert check_expected_version(expected) == expected


@pytest.mark.parametrize("expected", [-1, True, False, 2.0, "any ", "exists", None])
def test_unknown_expected_version_forms_fail(expected: Any) -> None:
    with pytest.raises(InvalidExpectedVersion):
        check_expected_version(expected)


def test_data_is_encoded_once_as_compact_json() -> None:
    encoded = encode_event(NewEvent("X", {"a": [1, "b"]}))
    assert encoded.data_json == '{"a":[1,"b"]}'


def test_non_json_data_and_oversized_data_fail() -> None:
    with pytest.raises(EventNotSerializable):
        encode_event(NewEvent("X", {"a": object()}))
    with pytest.raises(EventTooLarge):
        encode_event(NewEvent("X", {"a": "x" * MAX_EVENT_BYTES}))


def test_metadata_keeps_only_the_fields_that_are_set() -> None:
    assert encode_metadata(Metadata(actor_id="u", idempotency_key="k")) == (
        {"actor_id": "u", "idempotency_key": "k"},
        '{"actor_id":"u","idempotency_key":"k"}',
    )
    assert encode_metadata(None) == ({}, "{}")
    with pytest.raises(StoreInputError):
        encode_metadata({"actor_id": "u"})


def test_an_append_without_events_fails() -> None:
    with pytest.raises(EmptyAppend):
        plan_appends([StreamAppend("person-a", [])])
