"""Merkle entries: what a leaf hashes, and the batch path equal to the plain one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import orjson

from events.hashing import entry_bytes
from events.merkle import leaf_hash
from events.rows import NewRow
from events.tree import row_entry, row_leaf, row_leaves

AT = datetime(2026, 12, 4, 9, 30, 0, 120, tzinfo=UTC)
ID = UUID("6f1c2a9e-0c4e-4d8e-9a63-1f2b3c4d5e6f")


def test_an_entry_is_sorted_compact_json_with_position_and_event_id() -> None:
    entry = row_entry(7, "person-a", 2, ID, "PromotionRecorded", 1, '{"b":1,"a":[2]}',
                      '{"actor_id":"hr-1"}', AT)  # fmt: skip
    assert entry == (
        b'{"data":{"a":[2],"b":1},"event_id":"6f1c2a9e-0c4e-4d8e-9a63-1f2b3c4d5e6f",'
        b'"metadata":{"actor_id":"hr-1"},"position":7,'
        b'"recorded_at":"2026-12-04T09:30:00.000120+00:00","schema_version":1,'
        b'"stream":"person-a","type":"PromotionRecorded","version":2}'
    )
    assert entry == entry_bytes(
        position=7, event_id=ID, stream="person-a", version=2, type="PromotionRecorded",
        schema_version=1, data={"b": 1, "a": [2]}, metadata={"actor_id": "hr-1"},
        recorded_at=AT.astimezone(timezone(timedelta(hours=-5))),
    )  # fmt: skip


def test_the_batch_leaves_equal_the_plain_ones() -> None:
    rows = [
        NewRow(i, f"person-{i % 3}", i, UUID(int=i), "Noted", 1, orjson.dumps({"i": i}).decode(),
               '{"actor_id":"a"}' if i % 2 else "{}", AT + timedelta(seconds=i // 4), "h", None)
        for i in range(1, 30)
    ]  # fmt: skip
    assert row_leaves(rows) == [row_leaf(r) for r in rows]
    assert row_leaves(rows)[0] == leaf_hash(row_entry(*rows[0][:9]))
