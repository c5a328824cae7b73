"""The chain checker over rows in memory."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

import orjson

from events.hashing import canonical, chain_hash
from events.verify import ChainVerifier, StoredRow

AT = datetime(2025, 1, 1, tzinfo=UTC)


def chain(stream: str, n: int, first_position: int = 1, step: int = 1) -> list[StoredRow]:
    rows: list[StoredRow] = []
    prev: str | None = None
    for v in range(1, n + 1):
        data = {"v": v}
        digest = chain_hash(
            prev,
            canonical(
                stream=stream,
                version=v,
                type="T",
                schema_version=1,
                data=data,
                metadata={},
                recorded_at=AT,
            ),
        )
        rows.append(
            StoredRow(
                first_position + (v - 1) * step,
                stream,
                v,
                uuid4(),
                "T",
                1,
                orjson.dumps(data).decode(),
                "{}",
                AT,
                digest,
                prev,
            )
        )
        prev = digest
    return rows


def run(rows: list[StoredRow], check_positions: bool = True) -> ChainVerifier:
    checker = ChainVerifier(check_positions=check_positions)
    for row in sorted(rows, key=lambda r: r.position):
        checker.feed(row)
    return checker


def test_interleaved_intact_chains_verify() -> None:
    rows = chain("person-a", 3, 1, 2) + chain("person-b", 3, 2, 2)
    result = run(rows).result()
    assert result.ok
    assert (result.streams_checked, result.events_checked) == (2, 6)


def test_changed_data_names_the_row() -> None:
    rows = chain("person-a", 3)
    rows[1] = replace(rows[1], data='{"v":99}')
    result = run(rows).result()
    assert result.first_break is not None
    assert result.first_break.event_id == rows[1].event_id


def test_a_missing_middle_row_names_the_next_one() -> None:
    rows = chain("person-a", 3)
    del rows[1]
    result = run(rows).result()
    assert result.first_break is not None
    assert result.first_break.version == 3


def test_a_position_gap_is_reported_only_over_the_whole_log() -> None:
    rows = chain("person-a", 2, 1) + chain("person-b", 1, 4)
    assert not run(rows).result().ok
    assert run(rows, check_positions=False).result().ok


def test_invalid_json_is_a_break() -> None:
    rows = chain("person-a", 1)
    rows[0] = replace(rows[0], data="{not json")
    result = run(rows).result()
    assert result.first_break is not None
    assert "JSON" in result.first_break.reason
