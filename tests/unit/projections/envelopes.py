"""Envelopes for projection unit tests: events as the log would hand them over."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from domain import events as ev
from domain.serialization import stream_for
from events.projections.base import Envelope

T0 = datetime(2025, 7, 1, 9, tzinfo=UTC)


def envelopes(events: Iterable[ev.DomainEvent]) -> list[Envelope]:
    """Positions from 1, stream versions per stream, one second apart, actor ``hr-1``."""
    versions: dict[str, int] = {}
    out: list[Envelope] = []
    for position, e in enumerate(events, start=1):
        stream = stream_for(e)
        versions[stream] = versions.get(stream, 0) + 1
        out.append(
            Envelope.wrap(
                e,
                position=position,
                stream=stream,
                version=versions[stream],
                recorded_at=T0 + timedelta(seconds=position),
                actor_id="hr-1",
            )
        )
    return out
