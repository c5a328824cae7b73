"""Domain errors: one small hierarchy, each child one broken rule.

Every error carries a stable ``code`` (UPPER_SNAKE, part of the public API), a human
``message``, the GraphQL input ``field`` at fault (camelCase, e.g. ``toLevel``) when one is,
and the ``ids`` involved (``personId``, ``mentorshipId``, ...) as strings. They are raised by
``decide`` before anything is written; ``api/`` turns them into GraphQL errors in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class LadderError(Exception):
    """Base of every domain error."""

    code: str = "LADDER_ERROR"
    default_field: str | None = None

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        ids: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message: str = message
        self.field: str | None = field if field is not None else self.default_field
        self.ids: dict[str, str] = {k: str(v) for k, v in (ids or {}).items()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


# --- people -----------------------------------------------------------------------------


class PersonNotFound(LadderError):
    code = "PERSON_NOT_FOUND"
    default_field = "personId"


class PersonAlreadyExists(LadderError):
    code = "PERSON_ALREADY_EXISTS"
    default_field = "personId"


class PersonDepartedError(LadderError):
    """A departed person takes only a rehire and corrections (named apart from the
    ``PersonDeparted`` event)."""

    code = "PERSON_DEPARTED"
    default_field = "personId"


class PersonNotDeparted(LadderError):
    code = "PERSON_NOT_DEPARTED"
    default_field = "personId"


class EmailAlreadyUsed(LadderError):
    """Another person already has this email address (compared without case)."""

    code = "EMAIL_ALREADY_USED"
    default_field = "email"


# --- the org chart ----------------------------------------------------------------------


class ManagerNotFound(LadderError):
    """The manager named has no stream (no hire)."""

    code = "MANAGER_NOT_FOUND"
    default_field = "managerId"


class ManagerNotEmployed(LadderError):
    """The manager named is not employed on the effective date (not yet hired, or left)."""

    code = "MANAGER_NOT_EMPLOYED"
    default_field = "managerId"


class ManagerCycle(LadderError):
    """The person would manage their own manager, directly or indirectly."""

    code = "MANAGER_CYCLE"
    default_field = "managerId"


class InvalidInput(LadderError):
    """Malformed input: empty names, bad emails, negative years..."""

    code = "VALIDATION_ERROR"


# --- ladder and level changes -----------------------------------------------------------


class UnknownTrack(LadderError):
    code = "UNKNOWN_TRACK"
    default_field = "track"


class UnknownLevel(LadderError):
    code = "UNKNOWN_LEVEL"
    default_field = "level"


class LevelSkipped(LadderError):
    code = "LEVEL_SKIPPED"
    default_field = "toLevel"


class NotAPromotion(LadderError):
    code = "NOT_A_PROMOTION"
    default_field = "toLevel"


class NotADemotion(LadderError):
    code = "NOT_A_DEMOTION"
    default_field = "toLevel"


class InsufficientExperience(LadderError):
    code = "INSUFFICIENT_EXPERIENCE"
    default_field = "experienceException"


class RequirementNotMet(LadderError):
    """The target level requires more than years (``Level.requires``) and it is not met;
    an experience exception with its reason waives it, as for years."""

    code = "REQUIREMENT_NOT_MET"
    default_field = "experienceException"


class EffectiveDateBeforeHire(LadderError):
    code = "EFFECTIVE_DATE_BEFORE_HIRE"
    default_field = "effectiveOn"


class EffectiveDateAfterDeparture(LadderError):
    code = "EFFECTIVE_DATE_AFTER_DEPARTURE"
    default_field = "effectiveOn"


class EffectiveDateTooFarAhead(LadderError):
    code = "EFFECTIVE_DATE_TOO_FAR_AHEAD"
    default_field = "effectiveOn"


class LevelAlreadyChangedOnDate(LadderError):
    code = "LEVEL_ALREADY_CHANGED_ON_DATE"
    default_field = "effectiveOn"


class EffectiveDateOutOfOrder(LadderError):
    """Career changes are recorded in effective-date order: not before the latest one."""

    code = "EFFECTIVE_DATE_OUT_OF_ORDER"
    default_field = "effectiveOn"


class NotALateralMove(LadderError):
    """A lateral move changes track without going up; within a track, promote or demote."""

    code = "NOT_A_LATERAL_MOVE"
    default_field = "toLevel"


class LadderInvalid(LadderError):
    """A ladder definition broke one or more rules; ``problems`` lists every one."""

    code = "LADDER_INVALID"
    default_field = "ladder"

    def __init__(self, problems: Iterable[str], *, source: str = "ladder") -> None:
        self.problems: list[str] = list(problems)
        listed = "; ".join(self.problems)
        super().__init__(f"{source} is invalid ({len(self.problems)} problems): {listed}")


class LadderLevelsOccupied(LadderError):
    """A new ladder version drops (or renames) levels people are on now."""

    code = "LADDER_LEVELS_OCCUPIED"
    default_field = "levels"


class LadderUnchanged(LadderError):
    code = "LADDER_UNCHANGED"
    default_field = "ladder"


# --- mentorship -------------------------------------------------------------------------


class SelfMentorship(LadderError):
    code = "SELF_MENTORSHIP"
    default_field = "menteeId"


class MentorNotSenior(LadderError):
    code = "MENTOR_NOT_SENIOR"
    default_field = "mentorId"


class MentorAtCapacity(LadderError):
    code = "MENTOR_AT_CAPACITY"
    default_field = "mentorId"


class MentorshipAlreadyActive(LadderError):
    code = "MENTORSHIP_ALREADY_ACTIVE"
    default_field = "menteeId"


class MentorshipsStillActive(LadderError):
    """A person with active mentorships cannot depart: end them first (both streams)."""

    code = "MENTORSHIPS_STILL_ACTIVE"
    default_field = "personId"


class MentorshipNotFound(LadderError):
    code = "MENTORSHIP_NOT_FOUND"
    default_field = "mentorshipId"


class MentorshipAlreadyEnded(LadderError):
    code = "MENTORSHIP_ALREADY_ENDED"
    default_field = "mentorshipId"


class EndBeforeStart(LadderError):
    code = "END_BEFORE_START"
    default_field = "effectiveOn"


# --- rotations --------------------------------------------------------------------------


class RotationOverlap(LadderError):
    code = "ROTATION_OVERLAP"
    default_field = "effectiveOn"


class RotationNotFound(LadderError):
    code = "ROTATION_NOT_FOUND"
    default_field = "rotationId"


class RotationAlreadyEnded(LadderError):
    code = "ROTATION_ALREADY_ENDED"
    default_field = "rotationId"


# --- corrections ------------------------------------------------------------------------


class EventNotFound(LadderError):
    code = "EVENT_NOT_FOUND"
    default_field = "targetEventId"


class InvalidCorrection(LadderError):
    code = "INVALID_CORRECTION"
    default_field = "changes"


__all__ = [
    "EffectiveDateAfterDeparture",
    "EffectiveDateBeforeHire",
    "EffectiveDateOutOfOrder",
    "EffectiveDateTooFarAhead",
    "EmailAlreadyUsed",
    "EndBeforeStart",
    "EventNotFound",
    "InsufficientExperience",
    "InvalidCorrection",
    "InvalidInput",
    "LadderError",
    "LadderInvalid",
    "LadderLevelsOccupied",
    "LadderUnchanged",
    "LevelAlreadyChangedOnDate",
    "LevelSkipped",
    "ManagerCycle",
    "ManagerNotEmployed",
    "ManagerNotFound",
    "MentorAtCapacity",
    "MentorNotSenior",
    "MentorshipAlreadyActive",
    "MentorshipAlreadyEnded",
    "MentorshipNotFound",
    "MentorshipsStillActive",
    "NotADemotion",
    "NotALateralMove",
    "NotAPromotion",
    "PersonAlreadyExists",
    "PersonDepartedError",
    "PersonNotDeparted",
    "PersonNotFound",
    "RequirementNotMet",
    "RotationAlreadyEnded",
    "RotationNotFound",
    "RotationOverlap",
    "SelfMentorship",
    "UnknownLevel",
    "UnknownTrack",
]
