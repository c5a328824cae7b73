"""The events row is named once (``events.rows.EVENT_COLUMNS``): the table, the row tuples,
the recorded event and the statements all follow it."""

from __future__ import annotations

import dataclasses
import typing
from datetime import UTC, datetime
from uuid import UUID

import orjson

from events.hashing import entry_bytes
from events.port import RecordedEvent
from events.rows import (
    COLUMNS,
    ENTRY_COLUMNS,
    EVENT_COLUMNS,
    INSERT_EVENTS,
    SELECT_EVENTS,
    NewRow,
    pg_binds,
)
from events.schema import events_table
from events.verify import StoredRow


def test_the_events_table_has_the_columns_of_the_spec_in_order() -> None:
    assert tuple(c.name for c in events_table.columns) == COLUMNS
    nullable = {c.name for c in events_table.columns if c.nullable}
    assert nullable == {c.name for c in EVENT_COLUMNS if c.stored == str | None}


def test_the_row_tuples_have_the_stored_types_of_the_spec() -> None:
    stored = {c.name: c.stored for c in EVENT_COLUMNS}
    assert NewRow._fields == COLUMNS
    assert typing.get_type_hints(NewRow) == stored
    assert tuple(f.name for f in dataclasses.fields(StoredRow)) == COLUMNS
    assert typing.get_type_hints(StoredRow) == stored


def test_a_recorded_event_has_the_decoded_types_of_the_spec() -> None:
    assert tuple(f.name for f in dataclasses.fields(RecordedEvent)) == COLUMNS
    assert typing.get_type_hints(RecordedEvent) == {c.name: c.decoded for c in EVENT_COLUMNS}


def test_the_merkle_entry_covers_the_leading_columns_except_the_hashes() -> None:
    assert COLUMNS[: len(ENTRY_COLUMNS)] == ENTRY_COLUMNS
    assert set(COLUMNS) - set(ENTRY_COLUMNS) == {"hash", "prev_hash"}
    entry = entry_bytes(
        position=1, event_id=UUID(int=1), stream="person-a", version=1, type="Noted",
        schema_version=1, data={}, metadata={}, recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    assert set(orjson.loads(entry)) == set(ENTRY_COLUMNS)


def test_the_statements_list_every_column_in_order() -> None:
    listed = ", ".join(COLUMNS)
    assert f"SELECT {listed} FROM events" == SELECT_EVENTS
    assert f"INSERT INTO events ({listed})" == INSERT_EVENTS
    assert pg_binds(arrays=True).startswith("$1::bigint[], $2::text[], ")
    assert pg_binds(arrays=False).endswith(f"${len(COLUMNS)}::text")


def test_a_new_row_reads_back_as_the_event_it_records() -> None:
    at = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    row = NewRow(3, "person-a", 2, UUID(int=7), "Noted", 1, '{"a":[1]}', '{"actor_id":"x"}',
                 at, "h" * 64, None)  # fmt: skip
    assert row.recorded() == RecordedEvent(
        3, "person-a", 2, UUID(int=7), "Noted", 1, {"a": [1]}, {"actor_id": "x"}, at, "h" * 64,
        None,
    )  # fmt: skip
