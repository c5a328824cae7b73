"""Tamper evidence: raw SQL behind the store's back, and verify names the event."""

from __future__ import annotations

from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from events.port import ANY, NO_STREAM, RecordedEvent
from events.sql_store import SqlEventStore
from tests.integration.store.helpers import ev, raw_uuid, tamper


async def _log(store: SqlEventStore) -> list[RecordedEvent]:
    """person-a v1..4 and person-b v1..2 interleaved: positions 1..6."""
    for stream in ["person-a", "person-b", "person-a", "person-b", "person-a", "person-a"]:
        await store.append(stream, [ev("Noted", stream=stream)], ANY)
    return await store.read_all()


async def test_an_untouched_log_verifies(store: SqlEventStore) -> None:
    await _log(store)
    result = await store.verify()
    assert result.ok
    assert result.first_break is None
    assert (result.streams_checked, result.events_checked) == (2, 6)
    assert (await store.verify("person-b")).events_checked == 2


async def test_changed_data_is_named(store: SqlEventStore) -> None:
    events = await _log(store)
    target = events[2]  # person-a v2
    await tamper(
        store, ("UPDATE events SET data = :d WHERE position = :p", {"d": '{"x":1}', "p": 3})
    )
    result = await store.verify()
    assert not result.ok
    assert result.first_break is not None
    assert result.first_break.event_id == target.event_id
    assert (result.first_break.stream, result.first_break.version) == ("person-a", 2)
    assert "changed" in result.first_break.reason
    assert (await store.verify("person-b")).ok
    assert not (await store.verify("person-a")).ok


@pytest.mark.parametrize(
    ("column", "value"),
    [("type", "Forged"), ("metadata", '{"actor_id":"mallory"}'), ("schema_version", 9)],
)
async def test_a_changed_envelope_field_is_named(
    store: SqlEventStore, column: str, value: object
) -> None:
    events = await _log(store)
    await tamper(store, (f"UPDATE events SET {column} = :v WHERE position = 5", {"v": value}))
    result = await store.verify()
    assert result.first_break is not None
    assert result.first_break.event_id == events[4].event_id


async def test_a_changed_recorded_at_is_named(store: SqlEventStore) -> None:
    events = await _log(store)
    await tamper(
        store,
        (
            "UPDATE events SET recorded_at = :t WHERE position = 2",
            {"t": events[1].recorded_at.replace(year=2001)},
        ),
    )
    result = await store.verify("person-b")
    assert result.first_break is not None
    assert result.first_break.event_id == events[1].event_id


async def test_a_deleted_event_breaks_the_chain_at_the_next_one(store: SqlEventStore) -> None:
    events = await _log(store)
    await tamper(store, ("DELETE FROM events WHERE position = 3", {}))  # person-a v2
    result = await store.verify()
    assert result.first_break is not None
    assert result.first_break.event_id == events[4].event_id  # person-a v3
    assert "deleted" in result.first_break.reason


async def test_a_deleted_last_event_of_a_stream_leaves_a_position_gap(
    store: SqlEventStore,
) -> None:
    events = await _log(store)
    await tamper(store, ("DELETE FROM events WHERE position = 4", {}))  # person-b v2 (its last)
    assert (await store.verify("person-b")).ok  # a stream alone cannot see its lost tail
    result = await store.verify()
    assert result.first_break is not None
    assert result.first_break.position == 5
    assert result.first_break.event_id == events[4].event_id
    assert "position 4 is missing" in result.first_break.reason


async def test_an_inserted_event_is_named(store: SqlEventStore) -> None:
    await _log(store)
    await tamper(
        store,
        (
            "INSERT INTO events (position, stream, version, event_id, type, schema_version, "
            "data, metadata, recorded_at, hash, prev_hash) SELECT 7, stream, 5, :eid, type, "
            "schema_version, data, metadata, recorded_at, hash, hash FROM events "
            "WHERE position = 6",
            {"eid": raw_uuid(store, uuid4())},
        ),
    )
    result = await store.verify()
    assert result.first_break is not None
    assert result.first_break.position == 7
    assert result.first_break.version == 5


async def test_an_event_inserted_mid_stream_breaks_the_chain(store: SqlEventStore) -> None:
    events = await _log(store)
    # Make room at person-a v2 by shifting v2..v4 up, then slot in a copy of v1.
    await tamper(
        store,
        ("UPDATE events SET version = version + 10 WHERE stream = 'person-a' AND version >= 2", {}),
        ("UPDATE events SET version = version - 9 WHERE stream = 'person-a' AND version >= 12", {}),
        (
            "INSERT INTO events (position, stream, version, event_id, type, schema_version, "
            "data, metadata, recorded_at, hash, prev_hash) SELECT 7, stream, 2, :eid, type, "
            "schema_version, data, metadata, recorded_at, hash, hash FROM events "
            "WHERE position = 1",
            {"eid": raw_uuid(store, uuid4())},
        ),
    )
    result = await store.verify()
    assert result.first_break is not None
    assert result.first_break.event_id == events[2].event_id  # old v2, now claiming v3


async def test_reordered_events_are_named(store: SqlEventStore) -> None:
    events = await _log(store)
    # Swap the positions of person-a v2 (3) and v3 (5).
    await tamper(
        store,
        ("UPDATE events SET position = 100 WHERE position = 3", {}),
        ("UPDATE events SET position = 3 WHERE position = 5", {}),
        ("UPDATE events SET position = 5 WHERE position = 100", {}),
    )
    result = await store.verify()
    assert result.first_break is not None
    assert result.first_break.position == 3
    assert result.first_break.event_id == events[4].event_id


async def test_swapped_versions_are_named(store: SqlEventStore) -> None:
    events = await _log(store)
    await tamper(
        store,
        ("UPDATE events SET version = 100 WHERE position = 1", {}),
        ("UPDATE events SET version = 1 WHERE position = 3", {}),
        ("UPDATE events SET version = 2 WHERE position = 1", {}),
        ("UPDATE events SET version = 2 WHERE position = 100", {}),
    )
    result = await store.verify()
    assert result.first_break is not None
    assert result.first_break.event_id == events[0].event_id


async def test_a_rewritten_hash_breaks_the_next_link(store: SqlEventStore) -> None:
    events = await _log(store)
    await tamper(store, ("UPDATE events SET hash = :h WHERE position = 1", {"h": "0" * 64}))
    result = await store.verify()
    assert result.first_break is not None
    assert result.first_break.event_id == events[0].event_id


@pytest.mark.parametrize(
    "sql", ["UPDATE events SET type = 'X'", "DELETE FROM events"], ids=["update", "delete"]
)
async def test_triggers_refuse_update_and_delete(store: SqlEventStore, sql: str) -> None:
    await store.append("person-a", [ev()], NO_STREAM)
    with pytest.raises(DBAPIError, match="APPEND_ONLY"):
        async with store.engine.begin() as conn:
            await conn.execute(text(sql))
    assert len(await store.read_all()) == 1
    assert (await store.verify()).ok


async def test_postgres_refuses_truncate(store: SqlEventStore) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    await store.append("person-a", [ev()], NO_STREAM)
    with pytest.raises(DBAPIError, match="APPEND_ONLY"):
        async with store.engine.begin() as conn:
            await conn.execute(text("TRUNCATE events"))
    assert len(await store.read_all()) == 1
