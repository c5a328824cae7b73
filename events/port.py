"""The event store port: the small interface every backend implements.

A store keeps one append-only log. Each stream (``person-<uuid>``, ``ladder-<track>``)
has contiguous versions from 1; the log as a whole has contiguous global positions
from 1, handed out in commit order so that a reader tailing ``read_all`` never skips.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol
from uuid import UUID, uuid4

from events.conditions import AppendCondition

NO_STREAM: Literal["no_stream"] = "no_stream"
ANY: Literal["any"] = "any"

ExpectedVersion = int | Literal["no_stream", "any"]
"""An exact stream version, ``NO_STREAM`` (the stream must not exist) or ``ANY``."""

MAX_EVENT_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended.

    ``type`` is a stable name (``PromotionRecorded``), never a class path.
    ``data`` must be JSON-serializable and at most 64 KiB once encoded.
    """

    type: str
    data: Mapping[str, Any]
    schema_version: int = 1
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class Metadata:
    """Who asked for an append and why; stored beside every event it writes."""

    actor_id: str | None = None
    actor_role: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    idempotency_key: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in _fields(self).items() if v is not None}


def _fields(m: Metadata) -> dict[str, str | None]:
    return {
        "actor_id": m.actor_id,
        "actor_role": m.actor_role,
        "correlation_id": m.correlation_id,
        "causation_id": m.causation_id,
        "idempotency_key": m.idempotency_key,
    }


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """One stream's part of an atomic (possibly multi-stream) append.

    A part without events (and an expected version other than ``ANY``) is a condition:
    the append happens only if that stream is at ``expected_version``, and writes nothing
    to it (a decision that read the stream, e.g. the open promotion cycle, is refused
    with ``WrongExpectedVersion`` when it moved). At least one part must have events."""

    stream: str
    events: Sequence[NewEvent]
    expected_version: ExpectedVersion = ANY


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as the log holds it, upcast to the current schema on read."""

    position: int
    stream: str
    version: int
    event_id: UUID
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime
    hash: str
    prev_hash: str | None


@dataclass(frozen=True, slots=True)
class Appended:
    """What one ``EventStore.write`` did."""

    positions: tuple[int, ...]
    events: tuple[RecordedEvent, ...]
    """The events as recorded (empty when ``replayed``)."""
    replayed: bool
    """The idempotency key was already used: nothing was written."""
    projected: bool = False
    """The read models already hold the events (applied in the append's transaction)."""


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first event of a stream whose hash or chain link does not match."""

    stream: str
    position: int | None
    version: int | None
    event_id: UUID | None
    reason: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of recomputing hash chains: ``ok`` when no break was found."""

    ok: bool
    streams_checked: int
    events_checked: int
    first_break: ChainBreak | None = None


class EventStore(Protocol):
    """The log. Appends are atomic and serialized; reads never block writers."""

    async def append(
        self,
        stream: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion,
        *,
        metadata: Metadata | None = None,
    ) -> list[int]:
        """Append ``events`` to ``stream`` and return their global positions.

        Raises ``WrongExpectedVersion`` (carrying the actual version) on a mismatch,
        and a ``StoreInputError`` subclass on bad input; nothing is written then.
        If ``metadata.idempotency_key`` was already recorded, returns the original
        positions and writes nothing.
        """
        ...

    async def append_streams(
        self, appends: Sequence[StreamAppend], *, metadata: Metadata | None = None
    ) -> list[int]:
        """Append to several streams in one transaction, all or nothing."""
        ...

    async def write(
        self,
        appends: Sequence[StreamAppend],
        *,
        metadata: Metadata | None = None,
        conditions: Sequence[AppendCondition] = (),
    ) -> Appended:
        """``append_streams``, saying what happened: the events as recorded, or, when the
        metadata's idempotency key was already used, ``replayed`` and the positions that
        first append wrote (decided under the append lock, so exact under any race).
        ``conditions`` are checked under the append lock before anything is written; one
        that raises refuses the append."""
        ...

    async def read_stream(
        self, stream: str, from_version: int = 1, to_version: int | None = None
    ) -> list[RecordedEvent]:
        """The stream's events with ``from_version <= version <= to_version``, in order."""
        ...

    async def read_all(
        self, after_position: int = 0, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        """Up to ``limit`` events with ``position > after_position``, in position order.

        With ``types``, only events of those types (positions then have gaps). Positions
        are handed out in commit order, so a reader that resumes after the last position
        it saw never misses an event.
        """
        ...

    async def last_position(self) -> int:
        """The highest position in the log, 0 when it is empty."""
        ...

    async def last_position_of(self, type_name: str) -> int:
        """The position of the last event of type ``type_name``, 0 if there is none."""
        ...

    async def known_positions(self, key: str) -> list[int] | None:
        """The positions the append carrying idempotency ``key`` wrote, or None if the key
        was never used."""
        ...

    async def stream_version(self, stream: str) -> int:
        """The stream's last version, 0 when it does not exist."""
        ...

    async def verify(self, stream: str | None = None) -> VerifyResult:
        """Recompute hash chains (of one stream, or of every stream plus the position
        sequence) and name the first event whose hash or link does not match."""
        ...
