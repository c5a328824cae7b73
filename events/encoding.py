"""Input checks and JSON encoding for appends: everything is rejected before any I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson

from events.errors import (
    DuplicateEventId,
    EmptyAppend,
    EventNotSerializable,
    EventTooLarge,
    InvalidExpectedVersion,
    InvalidStreamName,
    StoreInputError,
)
from events.port import ANY, MAX_EVENT_BYTES, NO_STREAM, ExpectedVersion, Metadata, NewEvent

STREAM_NAME = re.compile(r"^[a-z][a-z0-9]*-[A-Za-z0-9_.:-]+$")
MAX_NAME_LENGTH = 255


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    """A checked event with its data already encoded as the store writes it."""

    event: NewEvent
    data: Mapping[str, Any]
    data_json: str


@dataclass(frozen=True, slots=True)
class PlannedAppend:
    stream: str
    expected_version: ExpectedVersion
    events: list[EncodedEvent]


def check_stream(stream: object) -> str:
    if (
        not isinstance(stream, str)
        or len(stream) > MAX_NAME_LENGTH
        or STREAM_NAME.fullmatch(stream) is None
    ):
        raise InvalidStreamName(
            f"stream name {stream!r} is not 'category-id' "
            f"(pattern {STREAM_NAME.pattern}, at most {MAX_NAME_LENGTH} characters)"
        )
    return stream


def check_expected_version(expected: object) -> ExpectedVersion:
    if isinstance(expected, str) and expected in (NO_STREAM, ANY):
        return NO_STREAM if expected == NO_STREAM else ANY
    if isinstance(expected, int) and not isinstance(expected, bool) and expected >= 0:
        return expected
    raise InvalidExpectedVersion(
        f"expected version {expected!r} is not a version >= 0, NO_STREAM or ANY"
    )


def encode_event(event: object) -> EncodedEvent:
    if not isinstance(event, NewEvent):
        raise StoreInputError(f"expected a NewEvent, got {type(event).__name__}", field="events")
    if not isinstance(event.type, str) or not 0 < len(event.type) <= MAX_NAME_LENGTH:
        raise StoreInputError(f"event type {event.type!r} is not a short name", field="type")
    sv = event.schema_version
    if not isinstance(sv, int) or isinstance(sv, bool) or sv < 1:
        raise StoreInputError(f"schema version {sv!r} is not >= 1", field="schemaVersion")
    if not isinstance(event.event_id, UUID):
        raise StoreInputError(f"event id {event.event_id!r} is not a UUID", field="eventId")
    if not isinstance(event.data, Mapping):
        raise EventNotSerializable(f"data of {event.type} is not a mapping")
    data = event.data if isinstance(event.data, dict) else dict(event.data)
    try:
        encoded = orjson.dumps(data)
    except TypeError as exc:  # orjson.JSONEncodeError is a TypeError
        raise EventNotSerializable(f"data of {event.type} is not JSON-serializable: {exc}") from exc
    if len(encoded) > MAX_EVENT_BYTES:
        raise EventTooLarge(
            f"data of {event.type} is {len(encoded)} bytes encoded, over {MAX_EVENT_BYTES}"
        )
    return EncodedEvent(event, data, encoded.decode())


def encode_metadata(metadata: object) -> tuple[dict[str, str], str]:
    if metadata is None:
        return {}, "{}"
    if not isinstance(metadata, Metadata):
        raise StoreInputError("metadata must be a Metadata", field="metadata")
    as_dict = metadata.as_dict()
    try:
        return as_dict, orjson.dumps(as_dict).decode()
    except TypeError as exc:
        raise StoreInputError(
            f"metadata is not JSON-serializable: {exc}", field="metadata"
        ) from exc


def plan_appends(appends: Sequence[Any]) -> list[PlannedAppend]:
    """Check every part of an append; raise a ``StoreInputError`` on the first fault.

    A part with no events and a definite expected version (a version or ``NO_STREAM``)
    is a check: the append happens only if that stream is still where the caller read it
    (a decision that read several streams is protected by all of them). At least one
    part must write."""
    if not appends:
        raise EmptyAppend("nothing to append")
    plans: list[PlannedAppend] = []
    streams: set[str] = set()
    event_ids: set[UUID] = set()
    for part in appends:
        stream = check_stream(getattr(part, "stream", None))
        if stream in streams:
            raise StoreInputError(f"stream {stream} appears twice in one append", field="stream")
        streams.add(stream)
        expected = check_expected_version(getattr(part, "expected_version", None))
        events = getattr(part, "events", None)
        if isinstance(events, str | bytes) or not isinstance(events, Sequence):
            raise StoreInputError("events must be a sequence of NewEvent", field="events")
        if not events and expected == ANY:
            # A part without events is a condition only: ``stream`` must be at its
            # expected version, nothing is written to it (``StreamAppend``).
            raise EmptyAppend(f"no events to append to {stream}")
        encoded = [encode_event(e) for e in events]
        for e in encoded:
            if e.event.event_id in event_ids:
                raise DuplicateEventId(f"event id {e.event.event_id} appears twice in one append")
            event_ids.add(e.event.event_id)
        plans.append(PlannedAppend(stream, expected, encoded))
    if not any(plan.events for plan in plans):
        raise EmptyAppend("nothing to append: every part only checks a version")
    return plans
