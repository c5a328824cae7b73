"""Tamper evidence: each event's hash chains to the previous event of its stream."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson


def iso_utc(ts: datetime) -> str:
    """``recorded_at`` as the canonical form hashes it: ISO 8601, UTC, microseconds."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(
    *,
    stream: str,
    version: int,
    type: str,
    schema_version: int,
    data: Mapping[str, Any],
    metadata: Mapping[str, Any],
    recorded_at: datetime,
) -> bytes:
    """Sorted-key compact JSON of the fields the hash covers."""
    return orjson.dumps(
        {
            "stream": stream,
            "version": version,
            "type": type,
            "schema_version": schema_version,
            "data": data,
            "metadata": metadata,
            "recorded_at": iso_utc(recorded_at),
        },
        option=orjson.OPT_SORT_KEYS,
    )


def chain_hash(prev_hash: str | None, canonical_bytes: bytes) -> str:
    """sha256(prev_hash or "" + canonical), hex."""
    h = hashlib.sha256((prev_hash or "").encode("ascii"))
    h.update(canonical_bytes)
    return h.hexdigest()


def entry_bytes(
    *,
    position: int,
    event_id: UUID,
    stream: str,
    version: int,
    type: str,
    schema_version: int,
    data: Mapping[str, Any],
    metadata: Mapping[str, Any],
    recorded_at: datetime,
) -> bytes:
    """The bytes the event's Merkle leaf hashes (``events.merkle.leaf_hash``).

    Sorted-key compact JSON, like ``canonical``, of everything that gives an event its
    meaning, including what the chain hash leaves out: the global ``position`` and the
    ``event_id`` (later events refer to an event by its id). The event id is the
    lowercase hyphenated UUID text.
    """
    return entry_bytes_at(
        position, event_id, stream, version, type, schema_version, data, metadata,
        iso_utc(recorded_at),
    )  # fmt: skip


def entry_bytes_at(
    position: int,
    event_id: UUID,
    stream: str,
    version: int,
    type: str,
    schema_version: int,
    data: Mapping[str, Any],
    metadata: Mapping[str, Any],
    recorded_at: str,
) -> bytes:
    """``entry_bytes`` with ``recorded_at`` already as ``iso_utc`` text (rows of one append
    share it, and formatting it is half the cost of an entry)."""
    return orjson.dumps(
        {
            "position": position,
            "event_id": str(event_id),
            "stream": stream,
            "version": version,
            "type": type,
            "schema_version": schema_version,
            "data": data,
            "metadata": metadata,
            "recorded_at": recorded_at,
        },
        option=orjson.OPT_SORT_KEYS,
    )
