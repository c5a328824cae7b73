"""What the read-model queries return: frozen dataclasses, built from rows in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from domain.career import DAYS_PER_YEAR
from domain.readiness import months_between

T = TypeVar("T")


def _uuid(value: object) -> UUID | None:
    return None if value is None else UUID(str(value))


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a keyset-paginated list; ``end_cursor`` is the last item's sort key."""

    items: tuple[T, ...]
    has_next: bool
    end_cursor: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class PersonView:
    person_id: UUID
    name: str
    email: str
    track: str
    level: str
    status: str
    manager_id: UUID | None
    hired_on: date
    departed_on: date | None
    prior_years: float
    experience_years: float
    experience_since: date | None
    level_since: date
    rotation_id: UUID | None
    rotation_team: str | None
    rotation_ends_on: date | None
    active_mentees: int
    mentorship_done: bool
    rotation_done: bool
    training_done: bool
    last_position: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PersonView:
        return cls(
            person_id=UUID(row["person_id"]),
            name=row["name"],
            email=row["email"],
            track=row["track"],
            level=row["level"],
            status=row["status"],
            manager_id=_uuid(row["manager_id"]),
            hired_on=row["hired_on"],
            departed_on=row["departed_on"],
            prior_years=row["prior_years"],
            experience_years=row["experience_years"],
            experience_since=row["experience_since"],
            level_since=row["level_since"],
            rotation_id=_uuid(row["rotation_id"]),
            rotation_team=row["rotation_team"],
            rotation_ends_on=row["rotation_ends_on"],
            active_mentees=row["active_mentees"],
            mentorship_done=row["mentorship_done"],
            rotation_done=row["rotation_done"],
            training_done=row["training_done"],
            last_position=row["last_position"],
        )

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.name, str(self.person_id))

    def years_of_experience(self, on: date) -> float:
        """Prior years plus tenure up to ``on``, without time away."""
        if self.experience_since is None or on <= self.experience_since:
            return self.experience_years
        return self.experience_years + (on - self.experience_since).days / DAYS_PER_YEAR

    def days_in_level(self, on: date) -> int:
        return max((on - self.level_since).days, 0)

    def months_in_level(self, on: date) -> int:
        return months_between(self.level_since, on)


@dataclass(frozen=True, slots=True)
class Correction:
    event_id: UUID
    position: int
    recorded_at: datetime
    actor_id: str | None
    reason: str
    changes: dict[str, Any]


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
        recorded_at: datetime = row["recorded_at"]
        return cls(
            event_id=UUID(row["event_id"]),
            person_id=UUID(row["person_id"]),
            position=row["position"],
            stream_version=row["stream_version"],
            type=row["type"],
            effective_on=row["effective_on"],
            recorded_at=recorded_at,
            actor_id=row["actor_id"],
            track=row["track"],
            from_level=row["from_level"],
            level=row["level"],
            experience_exception=row["experience_exception"],
            data=row["data"],
            original_data=row["original_data"],
            corrections=tuple(
                Correction(
                    event_id=UUID(c["event_id"]),
                    position=c["position"],
                    recorded_at=datetime.fromisoformat(c["recorded_at"]),
                    actor_id=c["actor_id"],
                    reason=c["reason"],
                    changes=c["changes"],
                )
                for c in row["corrections"]
            ),
            corrected_by=_uuid(row["corrected_by"]),
            corrected_position=row["corrected_position"],
            rescinded_by=_uuid(row["rescinded_by"]),
            rescinded_position=row["rescinded_position"],
            rescind_reason=row["rescind_reason"],
        )


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
        return cls(
            mentorship_id=UUID(row["mentorship_id"]),
            mentor_id=UUID(row["mentor_id"]),
            mentee_id=UUID(row["mentee_id"]),
            goals=tuple(row["goals"]),
            reverse=row["reverse"],
            started_on=row["started_on"],
            ended_on=row["ended_on"],
            outcome=row["outcome"],
            active=row["active"],
            position=row["position"],
        )


@dataclass(frozen=True, slots=True)
class MentorLoad:
    mentor_id: UUID
    active_mentees: int


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

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RotationView:
        return cls(
            rotation_id=UUID(row["rotation_id"]),
            person_id=UUID(row["person_id"]),
            host_team=row["host_team"],
            development_area=row["development_area"],
            started_on=row["started_on"],
            planned_end_on=row["planned_end_on"],
            ended_on=row["ended_on"],
            outcome=row["outcome"],
            active=row["active"],
        )


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
    person_id: UUID
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
