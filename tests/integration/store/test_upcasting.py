"""Events written in an earlier shape are read back in the current one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import orjson
from sqlalchemy import text

from events.hashing import canonical, chain_hash
from events.port import NO_STREAM, NewEvent
from events.sql_store import SqlEventStore
from events.tree import backfill
from events.upcasting import UpcasterRegistry
from tests.integration.store.helpers import raw_uuid


def registry() -> UpcasterRegistry:
    reg = UpcasterRegistry()

    @reg.register("PersonHired", 1)
    def split_name(data: dict[str, Any]) -> dict[str, Any]:
        first, _, last = data.pop("name").partition(" ")
        return {**data, "first_name": first, "last_name": last}

    @reg.register("PersonHired", 2)
    def add_track(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "track": data.get("track", "product")}

    return reg


async def _write_v1_row(store: SqlEventStore) -> None:
    """An event as the first release wrote it: schema version 1, a single ``name``."""
    data = {"name": "Ada Lovelace", "level": "L3"}
    at = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    digest = chain_hash(
        None,
        canonical(
            stream="person-ada",
            version=1,
            type="PersonHired",
            schema_version=1,
            data=data,
            metadata={},
            recorded_at=at,
        ),
    )
    async with store.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO events (position, stream, version, event_id, type, schema_version, "
                "data, metadata, recorded_at, hash, prev_hash) VALUES (1, 'person-ada', 1, :eid, "
                "'PersonHired', 1, :data, '{}', :at, :hash, NULL)"
            ),
            {
                "eid": raw_uuid(store, uuid4()),
                "data": orjson.dumps(data).decode(),
                "at": at if store.engine.dialect.name != "sqlite" else "2024-01-02 03:04:05.678901",
                "hash": digest,
            },
        )
        await conn.run_sync(backfill)  # the row's Merkle leaf, as migration 0003 would add it


async def test_a_version_one_event_is_read_upcast_to_the_current_shape(
    store: SqlEventStore,
) -> None:
    await _write_v1_row(store)
    store.upcasters = registry()
    [event] = await store.read_stream("person-ada")
    assert event.schema_version == 3
    assert event.data == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "level": "L3",
        "track": "product",
    }
    assert [e.data for e in await store.read_all()] == [event.data]


async def test_upcasting_leaves_the_stored_row_and_its_hash_alone(store: SqlEventStore) -> None:
    await _write_v1_row(store)
    store.upcasters = registry()
    await store.append("person-ada", [NewEvent("PersonHired", {"first_name": "A"}, 3)], 1)
    assert (await store.verify()).ok
    [_, current] = await store.read_stream("person-ada")
    assert (current.schema_version, current.data) == (3, {"first_name": "A"})


async def test_an_event_without_upcasters_is_read_as_stored(store: SqlEventStore) -> None:
    store.upcasters = UpcasterRegistry()
    await store.append("person-a", [NewEvent("PersonHired", {"name": "X"}, 1)], NO_STREAM)
    [event] = await store.read_all()
    assert (event.schema_version, event.data) == (1, {"name": "X"})
