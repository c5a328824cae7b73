"""What the read-model queries return: immutable rows, built from rows in one place.

Frozen dataclasses, except ``PersonView`` (a named tuple, see there). Ids are stored as
strings and leave as ``UUID``s (a person's as stored); the API turns them back into
strings where it names them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, get_type_hints
from uuid import UUID

from domain.career import DAYS_PER_YEAR
from domain.readiness import months_between

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T")
D = TypeVar("D", bound="DataclassInstance")


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (SQLite hands stored times back naive)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@cache
def _fields_of(cls: type[DataclassInstance]) -> tuple[tuple[str, bool], ...]:
    """``(name, is an id)`` of each field of ``cls``."""
    hints = get_type_hints(cls)
    return tuple((f.name, hints[f.name] in (UUID, UUID | None)) for f in fields(cls))


def _from_row(cls: type[D], row: Mapping[str, Any], **values: Any) -> D:
    """A ``cls`` from the row's columns of the same names, ``UUID`` fields parsed from
    their stored text; ``values`` are taken as given instead of a column."""
    for name, is_id in _fields_of(cls):
        if name not in values:
            value = row[name]
            values[name] = UUID(value) if is_id and value is not None else value
    return cls(**values)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a keyset-paginated list; ``end_cursor`` is the last item's sort key."""

    items: tuple[T, ...]
    has_next: bool
    end_cursor: tuple[str, ...] | None


class PersonView(NamedTuple):
    """One row of the people read model as of a day (``queries.as_of``): what every reader
    of a person gets, the API, readiness, the exports and the tests alike.

    Unlike the other views its ids stay the stored text: they are the keys of the API's
    loaders and of the relation queries, so a page of people parses and prints no id back.
    An immutable named tuple rather than a frozen dataclass: a page makes one per row, and
    a frozen dataclass of these 23 fields costs five times as much to make.
    """

    person_id: str
    name: str
    email: str
    track: str
    level: str
    status: str
    manager_id: str | None
    hired_on: date
    departed_on: date | None
    prior_years: float
    experience_years: float
    experience_since: date | None
    level_since: date
    rotation_id: str | None
    rotation_team: str | None
    rotation_ends_on: date | None
    active_mentees: int
    mentorship_done: bool
    rotation_done: bool
    training_done: bool
    areas_done: list[str]
    last_position: int
    erased: bool = False
    """Their personal data was erased: ``name`` and ``email`` are empty."""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PersonView:
        """From a people row's columns of the same names (the one decoder of a person)."""
        return cls(*[row[name] for name in PERSON_COLUMNS])

    def experience_exact_on(self, on: date) -> bool:
        """Whether :meth:`years_of_experience` is exact on ``on`` from these columns alone:
        on or after the start of the current employment, or (for someone who left) on or
        after their last day. Earlier days (before a rehire, during a gap, before a
        departure) need the person's employment periods, which only the log has."""
        if self.experience_since is not None:
            return on >= self.experience_since
        return self.departed_on is not None and on >= self.departed_on

    def years_of_experience(self, on: date) -> float:
        """Experience on ``on``: frozen while departed, growing by the day while employed
        (prior years plus tenure, without time away). Exact only where
        :meth:`experience_exact_on` says so."""
        if self.experience_since is None or on <= self.experience_since:
            return self.experience_years
        return self.experience_years + (on - self.experience_since).days / DAYS_PER_YEAR

    def days_in_level(self, on: date) -> int:
        return max((on - self.level_since).days, 0)

    def months_in_level(self, on: date) -> int:
        return months_between(self.level_since, on)


PERSON_COLUMNS = PersonView._fields
"""The people read model's columns a :class:`PersonView` is made of, in field order."""


@dataclass(frozen=True, slots=True)
class Correction:
    event_id: UUID
    position: int
    recorded_at: datetime
    actor_id: str | None
    reason: str
    changes: dict[str, Any]
    withdrawn_by: UUID | None = None
    """The rescind that withdrew this correction (it no longer counts), if one did."""

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Correction:
        """From the mark the timeline projection keeps in ``corrections``."""
        withdrawn = data.get("withdrawn_by")
        return _from_row(
            cls,
            data,
            recorded_at=datetime.fromisoformat(data["recorded_at"]),
            withdrawn_by=None if withdrawn is None else UUID(withdrawn),
        )

    def to_data(self) -> dict[str, Any]:
        """The mark as the timeline projection keeps it (``from_data``'s inverse)."""
        return {
            "event_id": str(self.event_id),
            "position": self.position,
            "recorded_at": self.recorded_at.isoformat(),
            "actor_id": self.actor_id,
            "reason": self.reason,
            "changes": self.changes,
            **({} if self.withdrawn_by is None else {"withdrawn_by": str(self.withdrawn_by)}),
        }


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One career fact with its current (corrected) values and its correction marks."""

    event_id: UUID
    person_id: UUID
    position: int
    stream_version: int
    type: str
    effective_on: date
    recorded_at: datetime
    actor_id: str | None
    track: str | None
    from_level: str | None
    level: str | None
    experience_exception: str | None
    data: dict[str, Any]
    original_data: dict[str, Any] | None
    corrections: tuple[Correction, ...]
    corrected_by: UUID | None
    corrected_position: int | None
    rescinded_by: UUID | None
    rescinded_position: int | None
    rescind_reason: str | None

    @property
    def rescinded(self) -> bool:
        return self.rescinded_by is not None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TimelineEntry:
        marks = row["corrections"] or ()
        return _from_row(cls, row, corrections=tuple(Correction.from_data(c) for c in marks))


@dataclass(frozen=True, slots=True)
class MentorshipView:
    mentorship_id: UUID
    mentor_id: UUID
    mentee_id: UUID
    goals: tuple[str, ...]
    reverse: bool
    started_on: date
    ended_on: date | None
    outcome: str | None
    active: bool
    position: int

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.started_on.isoformat(), str(self.mentorship_id))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> MentorshipView:
        return _from_row(cls, row, goals=tuple(row["goals"] or ()))


@dataclass(frozen=True, slots=True)
class RotationView:
    rotation_id: UUID
    person_id: UUID
    host_team: str
    development_area: str
    started_on: date
    planned_end_on: date
    ended_on: date | None
    outcome: str | None
    active: bool

    def overdue_on(self, on: date) -> bool:
        """Running past its planned end on ``on``."""
        return self.active and self.planned_end_on < on

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.started_on.isoformat(), str(self.rotation_id))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RotationView:
        return _from_row(cls, row)


@dataclass(frozen=True, slots=True)
class CensusEntry:
    track: str
    level: str
    headcount: int


@dataclass(frozen=True, slots=True)
class QuarterCount:
    track: str
    level: str
    """The level promoted to."""
    quarter: str
    """``2024-Q1``."""
    promotions: int


@dataclass(frozen=True, slots=True)
class TimeInLevel:
    track: str
    level: str
    """The level promoted from."""
    promotions: int
    median_months: float


@dataclass(frozen=True, slots=True)
class PromotionStats:
    per_quarter: tuple[QuarterCount, ...]
    time_in_level: tuple[TimeInLevel, ...]


@dataclass(frozen=True, slots=True)
class ReadinessView:
    person_id: str
    track: str
    level: str
    next_level: str | None
    """None at the top of the ladder (or for a person who is not active)."""
    min_years: int | None
    years_of_experience: float
    experience_met: bool
    months_in_level: int
    mentorship_done: bool
    rotation_done: bool
    training_done: bool
    missing: tuple[str, ...]
    rotation_overdue: bool = False
    """The current rotation is past its planned end and not ended."""
    impact_done: bool = False
    """Development in a performance-and-impact area at the current level."""

    @property
    def ready(self) -> bool:
        return self.next_level is not None and not self.missing


@dataclass(frozen=True, slots=True)
class ExperienceException:
    event_id: UUID
    person_id: UUID
    name: str
    track: str | None
    from_level: str | None
    to_level: str | None
    effective_on: date
    reason: str
    recorded_at: datetime
    actor_id: str | None
    position: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ExperienceException:
        """From a timeline row joined with the person's ``name``."""
        return _from_row(cls, row, to_level=row["level"], reason=row["experience_exception"])
