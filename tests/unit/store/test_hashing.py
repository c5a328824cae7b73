"""The canonical form and the chain hash (no I/O)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import orjson

from events.hashing import canonical, chain_hash, iso_utc

AT = datetime(2025, 3, 4, 5, 6, 7, 890, tzinfo=UTC)


def _canon(**overrides: object) -> bytes:
    fields: dict[str, object] = {
        "stream": "person-a",
        "version": 1,
        "type": "PersonHired",
        "schema_version": 1,
        "data": {"b": 1, "a": {"z": [1, 2.5], "y": None}},
        "metadata": {"actor_id": "u"},
        "recorded_at": AT,
    }
    fields.update(overrides)
    return canonical(**fields)  # type: ignore[arg-type]


def test_canonical_form_is_sorted_compact_json_with_microsecond_utc_time() -> None:
    assert _canon() == (
        b'{"data":{"a":{"y":null,"z":[1,2.5]},"b":1},"metadata":{"actor_id":"u"},'
        b'"recorded_at":"2025-03-04T05:06:07.000890+00:00","schema_version":1,'
        b'"stream":"person-a","type":"PersonHired","version":1}'
    )


def test_recorded_at_is_normalised_to_utc() -> None:
    plus_two = AT.astimezone(timezone(timedelta(hours=2)))
    assert iso_utc(plus_two) == "2025-03-04T05:06:07.000890+00:00"
    assert _canon(recorded_at=plus_two) == _canon()


def test_key_order_of_the_data_does_not_change_the_canonical_form() -> None:
    assert _canon(data={"a": 1, "b": 2}) == _canon(data={"b": 2, "a": 1})


def test_a_decoded_copy_of_the_data_has_the_same_canonical_form() -> None:
    data = {"when": "2024-01-01", "n": 1.0, "big": 10**18, "s": "ünïcode", "l": [{"k": True}]}
    assert _canon(data=orjson.loads(orjson.dumps(data))) == _canon(data=data)


def test_the_hash_chains_to_the_previous_hash() -> None:
    body = _canon()
    assert chain_hash(None, body) == hashlib.sha256(body).hexdigest()
    assert chain_hash("ab", body) == hashlib.sha256(b"ab" + body).hexdigest()
    assert chain_hash("ab", body) != chain_hash("ac", body)
