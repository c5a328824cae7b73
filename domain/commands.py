"""Commands: what a user asks for, in the imperative. ``decide`` turns them into events.

Construct them with keywords; field order is not part of the contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from domain.ladder import Ladder


@dataclass(frozen=True, slots=True)
class HirePerson:
    person_id: UUID
    name: str
    email: str
    track: str
    level: str
    hired_on: date
    prior_years: float = 0.0
    manager_id: UUID | None = None
    experience_exception: str | None = None
    """Why ``level`` is granted below its experience minimum (required then, like a
    promotion's)."""


@dataclass(frozen=True, slots=True)
class RecordPromotion:
    person_id: UUID
    to_level: str
    effective_on: date
    rationale: str
    evidence: dict[str, str] = field(default_factory=dict)
    """Evidence text keyed by development area key of the person's ladder."""
    experience_exception: str | None = None
    """The reason to promote below the target level's minimum experience."""


@dataclass(frozen=True, slots=True)
class RecordDemotion:
    person_id: UUID
    to_level: str
    effective_on: date
    reason: str


@dataclass(frozen=True, slots=True)
class RecordLateralMove:
    person_id: UUID
    to_track: str
    to_level: str
    effective_on: date
    reason: str


@dataclass(frozen=True, slots=True)
class StartMentorship:
    mentorship_id: UUID
    mentor_id: UUID
    mentee_id: UUID
    effective_on: date
    goals: tuple[str, ...] = ()
    allow_reverse: bool = False
    """Allow a mentor who does not rank above the mentee (reverse mentoring)."""


@dataclass(frozen=True, slots=True)
class EndMentorship:
    mentorship_id: UUID
    person_id: UUID
    """The mentee; the mentor is found in the mentee's state (``mentor_of``)."""
    effective_on: date
    outcome: str


@dataclass(frozen=True, slots=True)
class StartRotation:
    rotation_id: UUID
    person_id: UUID
    host_team: str
    development_area: str
    effective_on: date
    planned_end_on: date


@dataclass(frozen=True, slots=True)
class EndRotation:
    rotation_id: UUID
    person_id: UUID
    effective_on: date
    outcome: str


@dataclass(frozen=True, slots=True)
class RecordTraining:
    person_id: UUID
    program: str
    effective_on: date
    development_area: str = "leadership_training"


@dataclass(frozen=True, slots=True)
class RecordDeparture:
    person_id: UUID
    effective_on: date
    reason: str


@dataclass(frozen=True, slots=True)
class RehirePerson:
    person_id: UUID
    effective_on: date
    track: str
    level: str
    manager_id: UUID | None = None
    experience_exception: str | None = None
    """As for ``HirePerson``: experience is counted on the rehire date, without time away."""


@dataclass(frozen=True, slots=True)
class ChangeManager:
    person_id: UUID
    manager_id: UUID | None
    effective_on: date


@dataclass(frozen=True, slots=True)
class CorrectEvent:
    person_id: UUID
    target_event_id: UUID
    changes: dict[str, Any]
    """Field name of the target (snake_case, as in its data) -> new JSON value."""
    reason: str


@dataclass(frozen=True, slots=True)
class RescindEvent:
    person_id: UUID
    target_event_id: UUID
    reason: str


@dataclass(frozen=True, slots=True)
class PublishLadder:
    ladder: Ladder
    """The ladder to publish; its version is ignored (the next version is assigned)."""
    level_mapping: dict[str, str] = field(default_factory=dict)
    """Old level key -> new level key, for the levels this version drops or renames that
    people are on: they are moved to the new key on the publish date (``LevelMapped``)."""


@dataclass(frozen=True, slots=True)
class ErasePersonalData:
    """Erase a person's personal data (``domain.personal_data.decide_erasure``)."""

    person_id: UUID
    reason: str
    """A code of ``domain.personal_data.ERASURE_REASONS``."""
    reference: str | None = None
    """An optional non-personal reference (a ticket id)."""


PersonCommand = (
    HirePerson
    | RecordPromotion
    | RecordDemotion
    | RecordLateralMove
    | StartRotation
    | EndRotation
    | RecordTraining
    | RecordDeparture
    | RehirePerson
    | ChangeManager
    | CorrectEvent
    | RescindEvent
    | ErasePersonalData
)
"""Commands decided against one person's stream by ``decide``."""

MentorshipCommand = StartMentorship | EndMentorship
"""Commands decided against two streams by ``decide_mentorship``."""


Command = PersonCommand | MentorshipCommand | PublishLadder
