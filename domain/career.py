"""A person's career, derived from their effective facts.

``PersonState`` (``domain.state``) keeps the facts as recorded (career facts,
corrections, rescinds, mentorship events) and derives the career from them lazily:

1. every correction is replaced into its target (later corrections win, field by field);
2. rescinded facts are dropped;
3. the remaining *effective* facts are folded in order of (effective_on, order recorded).

Because the career is always re-derived from the effective facts, a correction that moves
a promotion's date, or a rescind that voids it, changes the career from that date on:
"rescinding a promotion restores the earlier level from that promotion's effective date"
needs no special case. Facts that make no sense (a promotion before the hire, a second
hire) are ignored by the fold; ``derive_career`` can list them as problems, which is how
``decide`` checks a correction before it is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain import events as ev

if TYPE_CHECKING:
    from domain.ladder import Ladder

ACTIVE = "active"
DEPARTED = "departed"
UNKNOWN = "unknown"
"""Status of a person with no (effective) hire."""

DAYS_PER_YEAR = 365.25

CareerFact = (
    ev.PersonHired
    | ev.PromotionRecorded
    | ev.DemotionRecorded
    | ev.LateralMoveRecorded
    | ev.RoleRotationStarted
    | ev.RoleRotationEnded
    | ev.LeadershipTrainingCompleted
    | ev.PersonDeparted
    | ev.PersonRehired
    | ev.ManagerChanged
    | ev.LevelMapped
)
MentorshipEvent = ev.MentorshipStarted | ev.MentorshipEnded | ev.MentorshipCorrected

LEVEL_CHANGES = (ev.PromotionRecorded, ev.DemotionRecorded, ev.LateralMoveRecorded)
LEVEL_SETTING = (ev.PersonHired, ev.PersonRehired, *LEVEL_CHANGES)


@dataclass(frozen=True, slots=True)
class EmploymentPeriod:
    start: date
    end: date | None
    """The departure date (the last day employed), None while employed."""


@dataclass(frozen=True, slots=True)
class LevelChange:
    """One step of the career: hired, promoted, demoted, moved or rehired."""

    event_id: UUID
    effective_on: date
    kind: str
    track: str
    level: str


@dataclass(frozen=True, slots=True)
class Rotation:
    rotation_id: UUID
    host_team: str
    development_area: str
    started_on: date
    planned_end_on: date
    ended_on: date | None
    outcome: str | None

    @property
    def active(self) -> bool:
        return self.ended_on is None

    @property
    def last_day(self) -> date:
        """Inclusive end of the rotation: its end, or its planned end while running."""
        return self.ended_on if self.ended_on is not None else self.planned_end_on

    def overlaps(self, start: date, last_day: date) -> bool:
        return self.started_on <= last_day and start <= self.last_day


@dataclass(frozen=True, slots=True)
class Training:
    event_id: UUID
    program: str
    development_area: str
    completed_on: date


@dataclass(frozen=True, slots=True)
class Mentorship:
    mentorship_id: UUID
    mentor_id: UUID
    mentee_id: UUID
    started_on: date
    goals: tuple[str, ...]
    reverse: bool
    ended_on: date | None = None
    outcome: str | None = None

    @property
    def active(self) -> bool:
        return self.ended_on is None


@dataclass(frozen=True, slots=True)
class Career:
    """A person's career as effective on a date (or after every recorded fact)."""

    exists: bool = False
    name: str = ""
    email: str = ""
    track: str = ""
    level: str = ""
    status: str = UNKNOWN
    manager_id: UUID | None = None
    hired_on: date | None = None
    """The first hire date."""
    prior_years: float = 0.0
    periods: tuple[EmploymentPeriod, ...] = ()
    level_since: date | None = None
    history: tuple[LevelChange, ...] = ()
    rotations: tuple[Rotation, ...] = ()
    trainings: tuple[Training, ...] = ()
    mentorships: tuple[Mentorship, ...] = ()

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @property
    def current_rotation(self) -> Rotation | None:
        """The running rotation that started last (a backdated one may run beside it)."""
        running = [r for r in self.rotations if r.active]
        return max(running, key=lambda r: r.started_on) if running else None

    def rotation_overdue(self, on: date) -> bool:
        """Whether the current rotation is past its planned end on ``on`` and not ended."""
        current = self.current_rotation
        return current is not None and current.planned_end_on < on

    @property
    def employed_since(self) -> date | None:
        """Start of the current (or last) employment period: the hire or rehire date."""
        return self.periods[-1].start if self.periods else None

    @property
    def departed_on(self) -> date | None:
        if self.status == DEPARTED and self.periods:
            return self.periods[-1].end
        return None

    @property
    def last_level_change_on(self) -> date | None:
        return self.history[-1].effective_on if self.history else None

    def years_of_experience(self, on: date) -> float:
        """Prior years plus tenure up to ``on`` within employment periods (no time away)."""
        days = 0
        for period in self.periods:
            end = on if period.end is None or period.end > on else period.end
            if end > period.start:
                days += (end - period.start).days
        return self.prior_years + days / DAYS_PER_YEAR


def derive_career(
    facts: Sequence[tuple[int, CareerFact]],
    *,
    as_of: date | None = None,
    mentorships: Iterable[Mentorship] = (),
    ladders: Mapping[str, Ladder] | None = None,
    problems: list[str] | None = None,
) -> Career:
    """Fold effective facts (with their recorded order) into a career.

    Facts after ``as_of`` are left out. Facts that do not fit are skipped; when
    ``problems`` is given each one is described there (and levels are checked against
    ``ladders`` when given).
    """

    def note(message: str) -> None:
        if problems is not None:
            problems.append(message)

    def check_level(fact: CareerFact, track: str, level: str) -> None:
        if ladders is None:
            return
        ladder = ladders.get(track)
        if ladder is None:
            note(f"{type(fact).__name__} {fact.event_id}: unknown track {track!r}")
        elif not ladder.has_level(level):
            note(f"{type(fact).__name__} {fact.event_id}: {level!r} is not on the {track} ladder")

    def check_direction(fact: ev.PromotionRecorded | ev.DemotionRecorded) -> None:
        ladder = ladders.get(fact.track) if ladders is not None else None
        if ladder is None or not (
            ladder.has_level(fact.from_level) and ladder.has_level(fact.to_level)
        ):
            return
        if isinstance(fact, ev.PromotionRecorded):
            up = ladder.next_level(fact.from_level)
            if up is None or up.key != fact.to_level:
                note(f"PromotionRecorded {fact.event_id}: {fact.to_level!r} is not the next level")
        elif ladder.level(fact.to_level).rank >= ladder.level(fact.from_level).rank:
            note(f"DemotionRecorded {fact.event_id}: {fact.to_level!r} is not a lower level")

    ordered = sorted(facts, key=lambda pair: (pair[1].effective_on, pair[0]))
    c: dict[str, Any] = {}
    exists = False
    status = UNKNOWN
    periods: list[EmploymentPeriod] = []
    history: list[LevelChange] = []
    starts: dict[UUID, ev.RoleRotationStarted] = {}
    ends: dict[UUID, ev.RoleRotationEnded] = {}
    trainings: list[Training] = []

    def set_level(fact: CareerFact, kind: str, track: str, level: str) -> None:
        if history and history[-1].effective_on == fact.effective_on:
            note(
                f"{type(fact).__name__} {fact.event_id}: second level change on {fact.effective_on}"
            )
        check_level(fact, track, level)
        c["track"], c["level"] = track, level
        if kind != "mapped":  # a ladder's new name for the same job: time in level goes on
            c["level_since"] = fact.effective_on
        history.append(LevelChange(fact.event_id, fact.effective_on, kind, track, level))

    for _, fact in ordered:
        if as_of is not None and fact.effective_on > as_of:
            break
        name = type(fact).__name__
        if isinstance(fact, ev.PersonHired):
            if exists:
                note(f"{name} {fact.event_id}: the person was already hired")
                continue
            exists, status = True, ACTIVE
            c.update(name=fact.name, email=fact.email, manager_id=fact.manager_id)
            c.update(hired_on=fact.effective_on, prior_years=fact.prior_years)
            periods.append(EmploymentPeriod(fact.effective_on, None))
            set_level(fact, "hired", fact.track, fact.level)
        elif not exists:
            note(f"{name} {fact.event_id}: effective {fact.effective_on}, before the hire")
        elif isinstance(fact, ev.PersonRehired):
            if status == ACTIVE:
                note(f"{name} {fact.event_id}: the person had not departed")
                continue
            status = ACTIVE
            c["manager_id"] = fact.manager_id
            periods.append(EmploymentPeriod(fact.effective_on, None))
            set_level(fact, "rehired", fact.track, fact.level)
        elif status == DEPARTED:
            note(f"{name} {fact.event_id}: effective {fact.effective_on}, after the departure")
        elif isinstance(fact, ev.PromotionRecorded | ev.DemotionRecorded):
            if (fact.track, fact.from_level) != (c["track"], c["level"]):
                note(
                    f"{name} {fact.event_id}: from {fact.from_level!r} but level was {c['level']!r}"
                )
            check_direction(fact)
            kind = "promoted" if isinstance(fact, ev.PromotionRecorded) else "demoted"
            set_level(fact, kind, fact.track, fact.to_level)
        elif isinstance(fact, ev.LateralMoveRecorded):
            if (fact.from_track, fact.from_level) != (c["track"], c["level"]):
                note(
                    f"{name} {fact.event_id}: from {fact.from_level!r} but level was {c['level']!r}"
                )
            set_level(fact, "moved", fact.to_track, fact.to_level)
        elif isinstance(fact, ev.LevelMapped):
            if (fact.track, fact.from_level) != (c["track"], c["level"]):
                note(
                    f"{name} {fact.event_id}: from {fact.from_level!r} but level was {c['level']!r}"
                )
                continue
            set_level(fact, "mapped", fact.track, fact.to_level)
        elif isinstance(fact, ev.PersonDeparted):
            status = DEPARTED
            periods[-1] = EmploymentPeriod(periods[-1].start, fact.effective_on)
        elif isinstance(fact, ev.ManagerChanged):
            c["manager_id"] = fact.manager_id
        elif isinstance(fact, ev.RoleRotationStarted):
            if fact.rotation_id in starts:
                note(f"{name} {fact.event_id}: rotation {fact.rotation_id} already started")
                continue
            starts[fact.rotation_id] = fact
        elif isinstance(fact, ev.RoleRotationEnded):
            if fact.rotation_id in ends:
                note(f"{name} {fact.event_id}: rotation {fact.rotation_id} already ended")
                continue
            ends[fact.rotation_id] = fact
        else:
            trainings.append(
                Training(fact.event_id, fact.program, fact.development_area, fact.effective_on)
            )

    rotations = _rotations(starts, ends, note)
    return Career(
        exists=exists,
        status=status,
        periods=tuple(periods),
        history=tuple(history),
        rotations=rotations,
        trainings=tuple(trainings),
        mentorships=_mentorships_on(mentorships, as_of),
        **c,
    )


def _rotations(
    starts: Mapping[UUID, ev.RoleRotationStarted],
    ends: Mapping[UUID, ev.RoleRotationEnded],
    note: Callable[[str], None],
) -> tuple[Rotation, ...]:
    rotations: list[Rotation] = []
    for rotation_id, start in starts.items():
        end = ends.get(rotation_id)
        if end is not None and end.effective_on < start.effective_on:
            note(f"rotation {rotation_id}: ends {end.effective_on}, before it starts")
            end = None
        rotation = Rotation(
            rotation_id,
            start.host_team,
            start.development_area,
            start.effective_on,
            start.planned_end_on,
            end.effective_on if end else None,
            end.outcome if end else None,
        )
        # Two may be running at once when one was backdated before the other: only
        # overlapping dates are a problem.
        for other in rotations:
            if other.overlaps(rotation.started_on, rotation.last_day):
                note(f"rotation {rotation_id} overlaps rotation {other.rotation_id}")
        rotations.append(rotation)
    return tuple(sorted(rotations, key=lambda r: r.started_on))


def _mentorships_on(
    mentorships: Iterable[Mentorship], as_of: date | None
) -> tuple[Mentorship, ...]:
    if as_of is None:
        return tuple(mentorships)
    seen: list[Mentorship] = []
    for m in mentorships:
        if m.started_on > as_of:
            continue
        if m.ended_on is not None and m.ended_on > as_of:
            m = replace(m, ended_on=None, outcome=None)
        seen.append(m)
    return tuple(seen)
