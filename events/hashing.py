"""Tamper evidence: each event's hash chains to the previous event of its stream."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

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
