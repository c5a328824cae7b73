"""The write side's pure helpers: correction changes, scoped idempotency keys, shared reads."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from api.auth import Principal, Role
from api.errors import ApiError, InvalidGlobalId
from api.relay import encode_global_id
from api.streaming import SharedReads
from api.types.mutations.common import parse_id_uuid, parse_idempotency_key, scoped_key
from api.types.mutations.corrections import changes_of
from events.port import RecordedEvent

UUID_TEXT = "6f1c2a9e-0c4e-4d8e-9a63-1f2b3c4d5e6f"


def test_a_person_id_may_be_a_global_id_or_a_bare_uuid() -> None:
    assert str(parse_id_uuid(UUID_TEXT, "Person", "personId")) == UUID_TEXT
    assert (
        str(parse_id_uuid(encode_global_id("Person", UUID_TEXT), "Person", "personId")) == UUID_TEXT
    )


@pytest.mark.parametrize(
    "value", ["nope", encode_global_id("Ladder", UUID_TEXT), encode_global_id("Person", "x")]
)
def test_anything_else_is_an_invalid_id_naming_the_field(value: str) -> None:
    with pytest.raises(InvalidGlobalId) as raised:
        parse_id_uuid(value, "Person", "mentorId")
    assert raised.value.field == "mentorId"


def test_correction_changes_are_keyed_as_the_event_data_is() -> None:
    assert changes_of({"effectiveOn": "2024-01-02", "rationale": "x"}) == {
        "effective_on": "2024-01-02",
        "rationale": "x",
    }


@pytest.mark.parametrize("value", [{}, [], "x", {"effectiveOn": 1, "effective_on": 2}])
def test_correction_changes_must_be_a_non_empty_object_without_repeats(value: object) -> None:
    with pytest.raises(ApiError) as raised:
        changes_of(value)
    assert raised.value.field == "changes"


@pytest.mark.parametrize("key", ["", "has space", "x" * 201, "naïve"])
def test_a_malformed_idempotency_key_is_refused(key: str) -> None:
    with pytest.raises(ApiError) as raised:
        parse_idempotency_key(key)
    assert raised.value.field == "idempotencyKey"


def test_idempotency_keys_are_scoped_to_the_caller_and_stay_short() -> None:
    ada = Principal("ada", Role.HR)
    long = Principal("s" * 500, Role.HR)
    assert scoped_key(ada, "k") != scoped_key(Principal("bob", Role.HR), "k")
    assert scoped_key(ada, None) is None
    assert len(scoped_key(long, "k" * 200) or "") <= 255


def test_idempotency_keys_with_colons_never_collide_across_callers() -> None:
    # "hr" with key "a:k" and "hr:a" with key "k" once shared "api:hr:a:k".
    assert scoped_key(Principal("hr", Role.HR), "a:k") != scoped_key(
        Principal("hr:a", Role.HR), "k"
    )


class CountingStore:
    def __init__(self) -> None:
        self.reads = 0
        self.release = asyncio.Event()

    async def read_all(
        self, after_position: int = 0, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        self.reads += 1
        await self.release.wait()
        return []


async def test_concurrent_identical_reads_share_one_query() -> None:
    shared, store = SharedReads(), CountingStore()
    store_any: Any = store
    readers = [
        asyncio.create_task(shared.read_all(store_any, 5, 100, ("PromotionRecorded",), 7))
        for _ in range(50)
    ]
    await asyncio.sleep(0)
    store.release.set()
    await asyncio.gather(*readers)
    assert store.reads == 1


async def test_a_reader_never_joins_a_read_older_than_what_it_heard() -> None:
    shared, store = SharedReads(), CountingStore()
    store_any: Any = store
    early = asyncio.create_task(shared.read_all(store_any, 5, 100, None, heard=7))
    await asyncio.sleep(0)
    late = asyncio.create_task(shared.read_all(store_any, 5, 100, None, heard=8))
    await asyncio.sleep(0)
    store.release.set()
    await asyncio.gather(early, late)
    assert store.reads == 2


class FailingStore(CountingStore):
    async def read_all(
        self, after_position: int = 0, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        self.reads += 1
        await self.release.wait()
        raise ConnectionError("database went away")


async def test_a_failed_shared_read_fails_every_reader_and_is_retried_next_time() -> None:
    shared, store = SharedReads(), FailingStore()
    store_any: Any = store
    readers = [asyncio.create_task(shared.read_all(store_any, 0, 10, None, 0)) for _ in range(3)]
    await asyncio.sleep(0)
    store.release.set()
    results = await asyncio.gather(*readers, return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    with pytest.raises(ConnectionError):
        await shared.read_all(store_any, 0, 10, None, 0)
    assert store.reads == 2
