"""A person's state, folded from their stream. ``evolve`` never raises.

The state keeps the events as recorded; the career is derived from them lazily by
``domain.career.derive_career`` (corrections replaced into their targets, rescinded
facts dropped, the rest folded by effective date). See ``domain.career``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property
from typing import Any
from uuid import UUID

from domain import events as ev
from domain.career import (
    Career,
    CareerFact,
    EmploymentPeriod,
    Mentorship,
    MentorshipEvent,
    Rotation,
    Training,
    derive_career,
)
from domain.serialization import from_data, to_data, type_name


@dataclass(frozen=True)
class PersonState:
    """Everything recorded in one person's stream, and the career derived from it.

    Immutable: ``evolve`` returns a new state. The derived views (``facts``, ``career``,
    ``mentorships``) are computed once, on first use.
    """

    person_id: UUID | None = None
    recorded: tuple[CareerFact, ...] = ()
    """Career facts exactly as recorded, in recorded order."""
    corrections: tuple[ev.EventCorrected, ...] = ()
    rescinds: tuple[ev.EventRescinded, ...] = ()
    mentorship_events: tuple[MentorshipEvent, ...] = ()
    version: int = 0
    """How many events were folded into this state."""
    erased: bool = False
    """The person's personal data was erased (``PersonalDataErased``)."""

    # --- derived ------------------------------------------------------------------------

    @cached_property
    def withdrawn_ids(self) -> frozenset[UUID]:
        """Corrections and rescinds that a later rescind withdrew (they no longer count)."""
        fixes = {c.event_id for c in self.corrections} | {r.event_id for r in self.rescinds}
        return frozenset(
            r.target_event_id
            for r in self.rescinds
            if r.fact_event_id is not None and r.target_event_id in fixes
        )

    @cached_property
    def rescinded_ids(self) -> frozenset[UUID]:
        """Career facts rescinded by a rescind that still counts."""
        withdrawn = self.withdrawn_ids
        return frozenset(
            r.target_event_id
            for r in self.rescinds
            if r.fact_event_id is None and r.event_id not in withdrawn
        )

    @cached_property
    def corrected_facts(self) -> dict[UUID, CareerFact]:
        """Every recorded career fact with its corrections applied (withdrawn ones left
        out), rescinded or not."""
        facts: dict[UUID, CareerFact] = {}
        for fact in self.recorded:
            facts.setdefault(fact.event_id, fact)
        withdrawn = self.withdrawn_ids
        for correction in self.corrections:
            if correction.event_id in withdrawn:
                continue
            target = facts.get(correction.target_event_id)
            if target is not None:
                corrected = apply_changes(target, correction.changes)
                if corrected is not None:
                    facts[target.event_id] = corrected
        return facts

    @cached_property
    def facts(self) -> dict[UUID, CareerFact]:
        """The effective career facts by event id (corrected, rescinded ones dropped)."""
        rescinded = self.rescinded_ids
        return {i: f for i, f in self.corrected_facts.items() if i not in rescinded}

    @cached_property
    def recorded_order(self) -> dict[UUID, int]:
        order: dict[UUID, int] = {}
        for index, fact in enumerate(self.recorded):
            order.setdefault(fact.event_id, index)
        return order

    @cached_property
    def mentorship_facts(
        self,
    ) -> dict[UUID, tuple[ev.MentorshipStarted, ev.MentorshipEnded | None]]:
        """Each mentorship's start and end in this stream, corrections applied."""
        starts: dict[UUID, ev.MentorshipStarted] = {}
        ends: dict[UUID, ev.MentorshipEnded] = {}
        for e in self.mentorship_events:
            mid = e.mentorship_id
            if isinstance(e, ev.MentorshipStarted):
                starts.setdefault(mid, e)
            elif isinstance(e, ev.MentorshipEnded):
                if mid in starts and mid not in ends:
                    ends[mid] = e
            elif e.target_type == "MentorshipStarted":
                start = starts.get(mid)
                if start is not None and start.event_id == e.target_event_id:
                    fixed = correct_mentorship(start, e.changes)
                    if isinstance(fixed, ev.MentorshipStarted):
                        starts[mid] = fixed
            else:
                end = ends.get(mid)
                if end is not None and end.event_id == e.target_event_id:
                    fixed = correct_mentorship(end, e.changes)
                    if isinstance(fixed, ev.MentorshipEnded):
                        ends[mid] = fixed
        return {mid: (start, ends.get(mid)) for mid, start in starts.items()}

    @cached_property
    def mentorships(self) -> dict[UUID, Mentorship]:
        """Every mentorship this person took part in, as mentor or mentee, by id."""
        found: dict[UUID, Mentorship] = {}
        for mid, (e, end) in self.mentorship_facts.items():
            found[mid] = Mentorship(
                mid,
                e.mentor_id,
                e.mentee_id,
                e.effective_on,
                e.goals,
                e.reverse,
                end.effective_on if end else None,
                end.outcome if end else None,
            )
        return found

    @cached_property
    def career(self) -> Career:
        """The career after every effective fact, future-dated ones included."""
        return self.view_on(None)

    def effective_pairs(self) -> list[tuple[int, CareerFact]]:
        order = self.recorded_order
        return [(order[i], f) for i, f in self.facts.items()]

    def view_on(self, as_of: date | None) -> Career:
        """The career as effective on ``as_of`` (None: after every effective fact).

        Kept per day, like ``career``: the state never changes, and one decision asks for
        the same day several times (the rules, then a new manager's chain, walked again by
        ``check_manager``)."""
        views: dict[date | None, Career] = self.__dict__.setdefault("_views", {})
        found = views.get(as_of)
        if found is None:
            found = views[as_of] = derive_career(
                self.effective_pairs(), as_of=as_of, mentorships=self.mentorships.values()
            )
        return found

    def years_of_experience(self, on: date) -> float:
        return self.career.years_of_experience(on)

    # --- convenient views of the latest career -----------------------------------------

    @property
    def exists(self) -> bool:
        return self.career.exists

    @property
    def name(self) -> str:
        return self.career.name

    @property
    def email(self) -> str:
        return self.career.email

    @property
    def track(self) -> str:
        return self.career.track

    @property
    def level(self) -> str:
        return self.career.level

    @property
    def status(self) -> str:
        return self.career.status

    @property
    def manager_id(self) -> UUID | None:
        return self.career.manager_id

    @property
    def hired_on(self) -> date | None:
        return self.career.hired_on

    @property
    def prior_years(self) -> float:
        return self.career.prior_years

    @property
    def periods(self) -> tuple[EmploymentPeriod, ...]:
        return self.career.periods

    @property
    def level_since(self) -> date | None:
        return self.career.level_since

    @property
    def rotations(self) -> tuple[Rotation, ...]:
        return self.career.rotations

    @property
    def trainings(self) -> tuple[Training, ...]:
        return self.career.trainings

    @property
    def mentees(self) -> dict[UUID, UUID]:
        """Active mentorships where this person mentors: mentorship id -> mentee id."""
        return {
            m.mentorship_id: m.mentee_id
            for m in self.mentorships.values()
            if m.active and m.mentor_id == self.person_id
        }

    @property
    def mentors(self) -> dict[UUID, UUID]:
        """Active mentorships where this person is mentored: mentorship id -> mentor id."""
        return {
            m.mentorship_id: m.mentor_id
            for m in self.mentorships.values()
            if m.active and m.mentee_id == self.person_id
        }

    def mentor_of(self, mentorship_id: UUID) -> UUID | None:
        """The mentor of one of this person's mentorships (to load the mentor's stream)."""
        found = self.mentorships.get(mentorship_id)
        return found.mentor_id if found else None

    @property
    def experience_exceptions(
        self,
    ) -> list[ev.PromotionRecorded | ev.PersonHired | ev.PersonRehired]:
        """Effective promotions, hires and rehires granted below the experience minimum."""
        return [
            f
            for f in self.facts.values()
            if isinstance(f, ev.PromotionRecorded | ev.PersonHired | ev.PersonRehired)
            and f.experience_exception
        ]

    def knows(self, event_id: UUID) -> bool:
        """Whether any event of this stream has this id."""
        return (
            event_id in self.recorded_order
            or any(e.event_id == event_id for e in self.corrections)
            or any(e.event_id == event_id for e in self.rescinds)
            or any(e.event_id == event_id for e in self.mentorship_events)
        )


def apply_changes(target: CareerFact, changes: Mapping[str, Any]) -> CareerFact | None:
    """``target`` with ``changes`` (field -> JSON value) replaced in; None if they don't fit."""
    try:
        data = to_data(target)
        if not set(changes) <= set(data) - IDENTITY_FIELDS:
            return None
        data.update(changes)
        corrected = from_data(type_name(target), data, target.event_id)
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    if not isinstance(corrected, type(target)) or not isinstance(corrected.effective_on, date):
        return None
    return corrected


MENTORSHIP_FIELDS: dict[str, frozenset[str]] = {
    "MentorshipStarted": frozenset({"effective_on", "goals"}),
    "MentorshipEnded": frozenset({"effective_on", "outcome"}),
}
"""What a mentorship correction may change: when it started or ended, its goals, its
outcome. Who mentors whom is the mentorship itself (end it and start another)."""

MentorshipFact = ev.MentorshipStarted | ev.MentorshipEnded


def correct_mentorship(target: MentorshipFact, changes: Mapping[str, Any]) -> MentorshipFact | None:
    """``target`` with ``changes`` replaced in; None if they don't fit."""
    name = type_name(target)
    if not set(changes) <= MENTORSHIP_FIELDS[name]:
        return None
    try:
        corrected = from_data(name, {**to_data(target), **changes}, target.event_id)
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    if not isinstance(corrected, type(target)) or not isinstance(corrected.effective_on, date):
        return None
    return corrected


IDENTITY_FIELDS = frozenset({"person_id", "rotation_id", "event_id"})
"""Fields a correction may not change: they say *which* fact it is, not what happened."""


def evolve(state: PersonState, event: object) -> PersonState:
    """The state after ``event``. Never raises: events it cannot use are ignored."""
    if not isinstance(event, ev.PERSON_EVENT_TYPES):
        return state
    if state.person_id is not None and event.person_id != state.person_id:
        return state
    person_id = event.person_id
    version = state.version + 1
    if isinstance(event, ev.PersonalDataErased):
        return replace(state, person_id=person_id, erased=True, version=version)
    if isinstance(event, ev.EventCorrected):
        return replace(
            state, person_id=person_id, corrections=(*state.corrections, event), version=version
        )
    if isinstance(event, ev.EventRescinded):
        return replace(
            state, person_id=person_id, rescinds=(*state.rescinds, event), version=version
        )
    if isinstance(event, ev.MentorshipStarted | ev.MentorshipEnded | ev.MentorshipCorrected):
        return replace(
            state,
            person_id=person_id,
            mentorship_events=(*state.mentorship_events, event),
            version=version,
        )
    return replace(state, person_id=person_id, recorded=(*state.recorded, event), version=version)


def fold(events: Iterable[object], state: PersonState | None = None) -> PersonState:
    """Fold a stream's events (in stream order) into a state, from ``state`` or empty."""
    start = state or PersonState()
    person_id = start.person_id
    recorded = list(start.recorded)
    corrections = list(start.corrections)
    rescinds = list(start.rescinds)
    mentorship = list(start.mentorship_events)
    version = start.version
    erased = start.erased
    for event in events:
        if not isinstance(event, ev.PERSON_EVENT_TYPES):
            continue
        if person_id is None:
            person_id = event.person_id
        elif event.person_id != person_id:
            continue
        version += 1
        if isinstance(event, ev.PersonalDataErased):
            erased = True
        elif isinstance(event, ev.EventCorrected):
            corrections.append(event)
        elif isinstance(event, ev.EventRescinded):
            rescinds.append(event)
        elif isinstance(event, ev.MentorshipStarted | ev.MentorshipEnded | ev.MentorshipCorrected):
            mentorship.append(event)
        else:
            recorded.append(event)
    return PersonState(
        person_id,
        tuple(recorded),
        tuple(corrections),
        tuple(rescinds),
        tuple(mentorship),
        version,
        erased,
    )


def state_on(events: Iterable[object], as_of: date | None = None) -> Career:
    """Time travel: fold ``events`` and view the career as effective on ``as_of``.

    "Known at" filtering (by recorded time) is the caller's, before the fold.
    """
    return fold(events).view_on(as_of)
