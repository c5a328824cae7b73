"""Domain events: facts about a career, named in the past tense, never rewritten.

Every person event lives in the stream ``person-<person_id>`` and carries:

* ``person_id`` -- the owner of the stream the event is recorded in;
* ``effective_on`` -- the business date the fact takes effect (the log keeps the
  recording time separately, in the store);
* ``event_id`` -- last, with a default. It is *not* part of the serialized data: the
  store keeps it as the event's id and ``serialization.from_data`` restores it on read,
  so corrections and rescinds can point at an event by id.

Mentorships are recorded in BOTH people's streams. ``decide_mentorship`` returns one
event for the mentor's stream (``person_id`` = mentor) and one for the mentee's stream
(``person_id`` = mentee) with the same ``mentorship_id``; the application service appends
both in ONE atomic two-stream append with the expected version of each stream. The
capacity rule ("a mentor has at most N active mentees") is decided from the mentor's
stream alone, so two concurrent assignments to one mentor both expect the same mentor
version: the store accepts the first and refuses the second with a concurrency
conflict, and the retry re-decides against the fresh mentor state (and is refused if
it would exceed capacity). The duplicate-pair and seniority rules are protected the same
way. A separate ``mentorship-<id>`` stream would not protect capacity, which spans every
mentorship of one mentor.

``LadderPublished`` lives in the stream ``ladder-<track>``; a published version never
changes, later versions are new events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from domain.case_events import CaseEvent, CycleEvent

# --- hiring and level changes -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonHired:
    """A person joined on ``effective_on`` (the hire date) at ``level`` of ``track``."""

    person_id: UUID
    effective_on: date
    name: str
    email: str
    track: str
    level: str
    prior_years: float
    """Years of relevant experience before this hire."""
    manager_id: UUID | None
    ladder_version: int
    experience_exception: str | None = None
    """Why the level was granted below its experience minimum (None when it was met).
    Added later: older hires have no such key in their data, which means None."""
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class PromotionRecorded:
    """A move to the next level of the same track, judged against ``ladder_version``."""

    person_id: UUID
    effective_on: date
    track: str
    from_level: str
    to_level: str
    ladder_version: int
    rationale: str
    evidence: dict[str, str]
    """Evidence text keyed by development area key (``ux_design``, ``business_impact``...)."""
    experience_exception: str | None
    """The reason the experience minimum was waived, or None when it was met."""
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class DemotionRecorded:
    person_id: UUID
    effective_on: date
    track: str
    from_level: str
    to_level: str
    ladder_version: int
    reason: str
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class LateralMoveRecorded:
    """A change of track (or a same-rank move); never a promotion or demotion."""

    person_id: UUID
    effective_on: date
    from_track: str
    from_level: str
    to_track: str
    to_level: str
    ladder_version: int
    """The version of the *target* track's ladder."""
    reason: str
    event_id: UUID = field(default_factory=uuid4)


# --- mentorship (recorded in both streams, see module docstring) ------------------------


@dataclass(frozen=True, slots=True)
class MentorshipStarted:
    person_id: UUID
    """The owner of the stream: the mentor in the mentor's copy, the mentee in the mentee's."""
    effective_on: date
    mentorship_id: UUID
    mentor_id: UUID
    mentee_id: UUID
    goals: tuple[str, ...]
    reverse: bool
    """True when the mentor does not rank above the mentee (explicitly allowed)."""
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class MentorshipEnded:
    person_id: UUID
    effective_on: date
    mentorship_id: UUID
    mentor_id: UUID
    mentee_id: UUID
    outcome: str
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class MentorshipCorrected:
    """Replaces fields of a mentorship's start or end, recorded in both streams like them.

    Each copy names its own stream's copy of the fact (``target_event_id``) and both carry
    the same ``mentorship_id`` and ``changes`` (``effective_on`` or ``goals`` of a start,
    ``effective_on`` or ``outcome`` of an end; JSON values). Appended to both streams in
    one append with the expected version of each, so the two copies never disagree.
    """

    person_id: UUID
    effective_on: date
    """The day the correction was recorded (not the corrected date)."""
    mentorship_id: UUID
    target_event_id: UUID
    target_type: str
    """``MentorshipStarted`` or ``MentorshipEnded``."""
    changes: dict[str, Any]
    reason: str
    mentee_id: UUID | None = None
    """The mentee, whose data the goals and outcome are (``domain.personal_data``)."""
    event_id: UUID = field(default_factory=uuid4)


# --- development ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoleRotationStarted:
    """A rotation to ``host_team``; the person keeps their level while on rotation."""

    person_id: UUID
    effective_on: date
    rotation_id: UUID
    host_team: str
    development_area: str
    planned_end_on: date
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class RoleRotationEnded:
    person_id: UUID
    effective_on: date
    rotation_id: UUID
    outcome: str
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class LeadershipTrainingCompleted:
    person_id: UUID
    effective_on: date
    program: str
    development_area: str
    event_id: UUID = field(default_factory=uuid4)


# --- employment -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonDeparted:
    """The person left; ``effective_on`` is the last day of employment."""

    person_id: UUID
    effective_on: date
    reason: str
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class PersonRehired:
    person_id: UUID
    effective_on: date
    track: str
    level: str
    manager_id: UUID | None
    ladder_version: int
    experience_exception: str | None = None
    """As for ``PersonHired``: the reason a level above the experience was granted."""
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class LevelMapped:
    """A new version of the ladder dropped or renamed the person's level: from
    ``effective_on`` (the publish date) they are on ``to_level`` of that version.

    Recorded in the same transaction as the ``LadderPublished`` whose ``level_mapping``
    says so. Not a promotion or demotion: time in level carries on.
    """

    person_id: UUID
    effective_on: date
    track: str
    from_level: str
    to_level: str
    ladder_version: int
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class ManagerChanged:
    person_id: UUID
    effective_on: date
    manager_id: UUID | None
    event_id: UUID = field(default_factory=uuid4)


# --- fixing the record without rewriting it ---------------------------------------------


@dataclass(frozen=True, slots=True)
class EventCorrected:
    """Replaces fields of an earlier career fact of the same person.

    ``changes`` maps field names of the target (snake_case, as in its data) to their new
    JSON value (ISO dates, str UUIDs). The target stays in the log untouched.
    """

    person_id: UUID
    effective_on: date
    target_event_id: UUID
    changes: dict[str, Any]
    reason: str
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class EventRescinded:
    """Declares an earlier career fact void, as if it had never taken effect.

    It may also target a correction (the correction is withdrawn: the fact has its values
    without it) or a rescind (the rescission is undone: the fact stands again); then
    ``fact_event_id`` names the career fact that correction or rescind was about. Such a
    withdrawal is final: it cannot itself be rescinded (record the fix again instead).
    """

    person_id: UUID
    effective_on: date
    target_event_id: UUID
    reason: str
    fact_event_id: UUID | None = None
    """The career fact behind a withdrawn correction or rescind; None when the target is
    the fact itself. Added later: older data has no such key."""
    event_id: UUID = field(default_factory=uuid4)


# --- personal data ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonalDataErased:
    """The person's personal data was erased (crypto-shredded): their data key is gone,
    so the personal fields of their events (``domain.personal_data``) can no longer be
    read. Holds no personal data itself: ``reason`` is a code of
    ``domain.personal_data.ERASURE_REASONS`` and ``reference`` an optional ticket id."""

    person_id: UUID
    effective_on: date
    reason: str
    reference: str | None = None
    event_id: UUID = field(default_factory=uuid4)


# --- ladders ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LadderPublished:
    """Version ``version`` of ``track``'s ladder (``Ladder.to_dict()``).

    Recorded in the stream ``ladder-<track>``; there is no ``person_id``.
    """

    track: str
    version: int
    ladder: dict[str, Any]
    effective_on: date
    level_mapping: dict[str, str] | None = None
    """Old level key -> new level key, for levels this version drops or renames (None
    when it moves no one). Added later: older data has no such key."""
    event_id: UUID = field(default_factory=uuid4)


PersonEvent = (
    PersonHired
    | PromotionRecorded
    | DemotionRecorded
    | LateralMoveRecorded
    | MentorshipStarted
    | MentorshipEnded
    | MentorshipCorrected
    | RoleRotationStarted
    | RoleRotationEnded
    | LeadershipTrainingCompleted
    | PersonDeparted
    | PersonRehired
    | ManagerChanged
    | LevelMapped
    | EventCorrected
    | EventRescinded
    | PersonalDataErased
)
"""Any event of a ``person-<uuid>`` stream."""

DomainEvent = PersonEvent | LadderPublished | CaseEvent | CycleEvent
"""Any domain event (promotion cases and cycles: ``domain.case_events``)."""

PERSON_EVENT_TYPES: tuple[type[PersonEvent], ...] = (
    PersonHired,
    PromotionRecorded,
    DemotionRecorded,
    LateralMoveRecorded,
    MentorshipStarted,
    MentorshipEnded,
    RoleRotationStarted,
    RoleRotationEnded,
    LeadershipTrainingCompleted,
    PersonDeparted,
    PersonRehired,
    ManagerChanged,
    LevelMapped,
    EventCorrected,
    EventRescinded,
    MentorshipCorrected,
    PersonalDataErased,
)

CAREER_FACT_TYPES: tuple[type[PersonEvent], ...] = (
    PersonHired,
    PromotionRecorded,
    DemotionRecorded,
    LateralMoveRecorded,
    RoleRotationStarted,
    RoleRotationEnded,
    LeadershipTrainingCompleted,
    PersonDeparted,
    PersonRehired,
    ManagerChanged,
    LevelMapped,
)
"""Events a correction or rescind may target.

Mentorship events are excluded: they are mirrored in two streams, and fixing one copy
would let the two streams disagree; a ``CorrectEvent`` naming a copy records a
``MentorshipCorrected`` in both streams instead. Corrections and rescinds themselves are
excluded: correct the original fact again instead.
"""
