"""Time travel, computed from the log (never from the read models).

Two axes, as auditors need them:

* ``as_of`` -- the business date: the career as *effective* on that day;
* ``known_at`` -- the recording time: only events the log had recorded by then count.

"What did the record say on 10 January about 31 December" is
``person_as_of(store, pid, as_of=date(…, 12, 31), known_at=datetime(…, 1, 10, …))``: a
correction recorded on 15 January shows in views known after it and not before. The
store's clock never runs backwards in the log, so "recorded by ``known_at``" is a prefix
of the log and of every stream.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain import events as ev
from domain.career import ACTIVE, Career
from domain.serialization import TYPE_NAMES, from_data, person_stream, to_data, type_name
from domain.state import PersonState, fold
from events.port import EventStore, RecordedEvent

PERSON_TYPES = frozenset(TYPE_NAMES[t] for t in ev.PERSON_EVENT_TYPES)
_BATCH = 10_000


def known_by(events: Sequence[RecordedEvent], known_at: datetime | None) -> list[RecordedEvent]:
    """The events the log had recorded by ``known_at`` (all of them when ``None``)."""
    if known_at is None:
        return list(events)
    return [e for e in events if e.recorded_at <= known_at]


def fold_recorded(events: Sequence[RecordedEvent]) -> PersonState:
    """A person's state from their recorded events, in stream order."""
    return fold(from_data(e.type, e.data, e.event_id) for e in events)


@dataclass(frozen=True, slots=True)
class PersonAsOf:
    """A person's career as effective on ``as_of``, as the log knew it at ``known_at``."""

    person_id: UUID
    as_of: date | None
    known_at: datetime | None
    known_through: int
    """The position of the last event taken into account."""
    career: Career


async def person_as_of(
    store: EventStore,
    person_id: UUID,
    as_of: date | None = None,
    known_at: datetime | None = None,
) -> PersonAsOf | None:
    """The person's career on ``as_of`` (None: after every fact) known at ``known_at``
    (None: now). None when the log knew no hire of this person then."""
    events = known_by(await store.read_stream(person_stream(person_id)), known_at)
    if not events:
        return None
    career = fold_recorded(events).view_on(as_of)
    if not career.exists:
        return None
    return PersonAsOf(person_id, as_of, known_at, events[-1].position, career)


@dataclass(frozen=True, slots=True)
class HistoryFact:
    """One career fact as the log knew it: current values, and how it was fixed."""

    event_id: UUID
    type: str
    effective_on: date
    position: int
    recorded_at: datetime
    actor_id: str | None
    data: dict[str, Any]
    """Values with every known correction applied."""
    corrected: bool
    rescinded: bool
    effective: bool
    """Not rescinded and effective on or before ``as_of``."""


@dataclass(frozen=True, slots=True)
class CareerFactsAsOf:
    """Every career fact of a person as known at ``known_at``, each marked corrected,
    rescinded and effective on ``as_of``, with the career they add up to."""

    person_id: UUID
    as_of: date | None
    known_at: datetime | None
    career: Career
    facts: tuple[HistoryFact, ...]
    """Every career fact known at ``known_at``, in effective order."""


async def career_facts_as_of(
    store: EventStore,
    person_id: UUID,
    as_of: date | None = None,
    known_at: datetime | None = None,
) -> CareerFactsAsOf | None:
    """The person's career facts as known at ``known_at``, marked effective on ``as_of``."""
    events = known_by(await store.read_stream(person_stream(person_id)), known_at)
    state = fold_recorded(events)
    career = state.view_on(as_of)
    if not career.exists:
        return None
    recorded = {e.event_id: e for e in events}
    withdrawn = state.withdrawn_ids
    corrected_ids = {c.target_event_id for c in state.corrections if c.event_id not in withdrawn}
    facts: list[HistoryFact] = []
    for event_id, fact in state.corrected_facts.items():
        origin = recorded[event_id]
        rescinded = event_id in state.rescinded_ids
        facts.append(
            HistoryFact(
                event_id=event_id,
                type=type_name(fact),
                effective_on=fact.effective_on,
                position=origin.position,
                recorded_at=origin.recorded_at,
                actor_id=origin.metadata.get("actor_id"),
                data=to_data(fact),
                corrected=event_id in corrected_ids,
                rescinded=rescinded,
                effective=not rescinded and (as_of is None or fact.effective_on <= as_of),
            )
        )
    facts.sort(key=lambda f: (f.effective_on, f.position))
    return CareerFactsAsOf(person_id, as_of, known_at, career, tuple(facts))


@dataclass(frozen=True, slots=True)
class CensusAsOf:
    as_of: date | None
    known_at: datetime | None
    known_through: int
    headcount: dict[tuple[str, str], int]
    """Active people per (track, level)."""


async def census_as_of(
    store: EventStore, as_of: date | None = None, known_at: datetime | None = None
) -> CensusAsOf:
    """Active headcount per (track, level) effective on ``as_of``, known at ``known_at``.

    Replays every person stream from the log (a full read: an audit query, not a page).
    """
    streams: dict[str, list[RecordedEvent]] = {}
    after = 0
    done = False
    while not done:
        # Unfiltered: nearly every event is a person's, and a type filter would make each
        # page re-scan the rest of the log on SQLite.
        batch = await store.read_all(after_position=after, limit=_BATCH)
        for e in batch:
            if known_at is not None and e.recorded_at > known_at:
                done = True
                break
            after = e.position
            if e.type in PERSON_TYPES:
                streams.setdefault(e.stream, []).append(e)
        done = done or len(batch) < _BATCH
    headcount: Counter[tuple[str, str]] = Counter()
    for events in streams.values():
        career = fold_recorded(events).view_on(as_of)
        if career.status == ACTIVE:
            headcount[(career.track, career.level)] += 1
    return CensusAsOf(as_of, known_at, after, dict(sorted(headcount.items())))
