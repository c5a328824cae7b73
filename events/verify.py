"""Recomputing hash chains: a pure checker fed stored rows in position order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

from events.hashing import canonical, chain_hash
from events.port import ChainBreak, VerifyResult
from events.rows import RECORDED_AT


@dataclass(frozen=True, slots=True)
class StoredRow:
    """An events row exactly as stored (data and metadata still JSON text): the fields
    of ``events.rows.EVENT_COLUMNS`` with their ``stored`` types, in order."""

    position: int
    stream: str
    version: int
    event_id: UUID
    type: str
    schema_version: int
    data: str
    metadata: str
    recorded_at: datetime
    hash: str
    prev_hash: str | None

    @classmethod
    def of(cls, row: Sequence[Any]) -> StoredRow:
        """A row as SQLAlchemy reads it (``COLUMNS`` order; SQLite's times are naive UTC)."""
        values = list(row)
        at: datetime = values[RECORDED_AT]
        values[RECORDED_AT] = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        return cls(*values)


class ChainVerifier:
    """Checks each stream's chain, and (over the whole log) that positions have no gaps.

    The first chain break in position order wins; a position gap is reported only
    when every chain holds (a deleted event usually breaks its stream's chain too).
    """

    def __init__(self, *, check_positions: bool) -> None:
        self._check_positions = check_positions
        self._heads: dict[str, tuple[int, str]] = {}
        self._last_position = 0
        self._events = 0
        self._first_break: ChainBreak | None = None
        self._first_gap: ChainBreak | None = None

    @property
    def broken(self) -> bool:
        return self._first_break is not None

    def feed(self, row: StoredRow) -> None:
        self._events += 1
        if self._check_positions and self._first_gap is None:
            if row.position != self._last_position + 1:
                self._first_gap = _break(
                    row,
                    f"position {self._last_position + 1} is missing or out of order "
                    f"(found {row.position} after {self._last_position})",
                )
            self._last_position = row.position
        if self._first_break is None:
            reason = self._check(row)
            if reason is not None:
                self._first_break = _break(row, reason)
        self._heads[row.stream] = (row.version, row.hash)

    def _check(self, row: StoredRow) -> str | None:
        last_version, last_hash = self._heads.get(row.stream, (0, None))
        if row.version != last_version + 1:
            return (
                f"version {row.version} follows version {last_version}: "
                "an event was deleted, inserted or reordered"
            )
        if row.prev_hash != last_hash:
            return "prev_hash does not match the previous event's hash: the chain is broken"
        try:
            data: Any = orjson.loads(row.data)
            metadata: Any = orjson.loads(row.metadata)
        except orjson.JSONDecodeError:
            return "data or metadata is not valid JSON"
        expected = chain_hash(
            row.prev_hash,
            canonical(
                stream=row.stream,
                version=row.version,
                type=row.type,
                schema_version=row.schema_version,
                data=data,
                metadata=metadata,
                recorded_at=row.recorded_at,
            ),
        )
        if expected != row.hash:
            return "hash does not match the event's content: the event was changed"
        return None

    def result(self) -> VerifyResult:
        first = self._first_break or self._first_gap
        return VerifyResult(
            ok=first is None,
            streams_checked=len(self._heads),
            events_checked=self._events,
            first_break=first,
        )


def _break(row: StoredRow, reason: str) -> ChainBreak:
    return ChainBreak(
        stream=row.stream,
        position=row.position,
        version=row.version,
        event_id=row.event_id,
        reason=reason,
    )
