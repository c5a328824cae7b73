"""Promotion cases and cycles: the events of the promotion workflow.

A promotion case lives in its own stream ``promotioncase-<case_id>``: a nomination, the
evidence added to it, the reviewers named on it, their reviews, and one outcome
(approved, declined or withdrawn). The promotion cycles live together in one stream,
``promotioncycles-all``, so "at most one cycle is open" is protected by that stream's
version, and a nomination that joins the open cycle is appended with the cycles stream's
expected version too (a close that got in first refuses it).

An approval is recorded with the ``PromotionRecorded`` it causes in the person's stream,
in one atomic two-stream append (``promotion_event_id`` names that event).

Free texts (``rationale``, ``evidence``, ``comment``, ``reason``) are plain fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from uuid import UUID, uuid4


@dataclass(frozen=True, slots=True)
class PromotionCycleOpened:
    """A cycle opened for nominations until ``closes_on``; ``reviewer_ids`` review every
    case of the cycle."""

    cycle_id: UUID
    name: str
    closes_on: date
    reviewer_ids: tuple[str, ...]
    """Person ids (as text) of the cycle's reviewers."""
    opened_by: str
    """The subject of the token that opened it."""
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class PromotionCycleClosed:
    """No more nominations join the cycle; its cases are still reviewed and decided."""

    cycle_id: UUID
    closed_by: str
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class PromotionNominated:
    """``person_id`` was nominated for ``to_level`` (the next level of their track, as
    ``ladder_version`` had it), by ``nominated_by``, in ``cycle_id`` (None: off-cycle)."""

    case_id: UUID
    person_id: UUID
    track: str
    from_level: str
    to_level: str
    ladder_version: int
    rationale: str
    evidence: dict[str, str]
    """Evidence text keyed by development area key of the ladder."""
    nominated_by: str
    """The subject of the token that nominated (a person id for a manager)."""
    nominated_on: date
    cycle_id: UUID | None = None
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class PromotionEvidenceAdded:
    case_id: UUID
    person_id: UUID
    area: str
    """A development area key of the ladder."""
    evidence: str
    added_by: str
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class PromotionReviewersNamed:
    """HR named reviewers of this case (besides the cycle's)."""

    case_id: UUID
    person_id: UUID
    reviewer_ids: tuple[str, ...]
    named_by: str
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class PromotionReviewed:
    """A named reviewer's recommendation; a later review by the same reviewer replaces it."""

    case_id: UUID
    person_id: UUID
    reviewer_id: str
    recommendation: str
    """``STRONG_YES``, ``YES``, ``NO`` or ``STRONG_NO``."""
    comment: str
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class PromotionApproved:
    """HR approved: the promotion takes effect on ``effective_on``; it was recorded in
    the person's stream in the same transaction as ``promotion_event_id``."""

    case_id: UUID
    person_id: UUID
    effective_on: date
    promotion_event_id: UUID
    decided_by: str
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class PromotionDeclined:
    case_id: UUID
    person_id: UUID
    reason: str
    decided_by: str
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class NominationWithdrawn:
    case_id: UUID
    person_id: UUID
    reason: str
    withdrawn_by: str
    event_id: UUID = field(default_factory=uuid4)


CaseEvent = (
    PromotionNominated
    | PromotionEvidenceAdded
    | PromotionReviewersNamed
    | PromotionReviewed
    | PromotionApproved
    | PromotionDeclined
    | NominationWithdrawn
)
"""Any event of a ``promotioncase-<uuid>`` stream."""

CycleEvent = PromotionCycleOpened | PromotionCycleClosed
"""Any event of the ``promotioncycles-all`` stream."""

CASE_EVENT_TYPES: tuple[type[CaseEvent], ...] = (
    PromotionNominated,
    PromotionEvidenceAdded,
    PromotionReviewersNamed,
    PromotionReviewed,
    PromotionApproved,
    PromotionDeclined,
    NominationWithdrawn,
)
CYCLE_EVENT_TYPES: tuple[type[CycleEvent], ...] = (PromotionCycleOpened, PromotionCycleClosed)
DECISION_TYPES: tuple[type[CaseEvent], ...] = (
    PromotionApproved,
    PromotionDeclined,
    NominationWithdrawn,
)
"""The events that end a case."""


def case_stream(case_id: UUID | str) -> str:
    return f"promotioncase-{case_id}"


CYCLES_STREAM = "promotioncycles-all"
