"""The promotion workflow's commands, in the imperative; each names its ``Actor``.

``domain.promotion_cases`` decides them. Construct them with keywords or in field order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks: the token's subject, the person it names (None for a service name) and
    whether the token is HR's."""

    subject: str
    person_id: UUID | None
    hr: bool = False


@dataclass(frozen=True, slots=True)
class OpenPromotionCycle:
    cycle_id: UUID
    name: str
    closes_on: date
    actor: Actor
    reviewer_ids: tuple[UUID, ...] = ()


@dataclass(frozen=True, slots=True)
class ClosePromotionCycle:
    cycle_id: UUID
    actor: Actor


@dataclass(frozen=True, slots=True)
class NominateForPromotion:
    case_id: UUID
    person_id: UUID
    to_level: str
    rationale: str
    actor: Actor
    evidence: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AddPromotionEvidence:
    case_id: UUID
    area: str
    evidence: str
    actor: Actor


@dataclass(frozen=True, slots=True)
class NamePromotionReviewers:
    case_id: UUID
    reviewer_ids: tuple[UUID, ...]
    actor: Actor


@dataclass(frozen=True, slots=True)
class ReviewPromotion:
    case_id: UUID
    recommendation: str
    comment: str
    actor: Actor


@dataclass(frozen=True, slots=True)
class DecidePromotion:
    """Approve (with ``effective_on``) or decline (with ``reason``)."""

    case_id: UUID
    approve: bool
    actor: Actor
    effective_on: date | None = None
    reason: str | None = None
    experience_exception: str | None = None
    """As for ``RecordPromotion``: why the experience minimum is waived."""


@dataclass(frozen=True, slots=True)
class WithdrawNomination:
    case_id: UUID
    reason: str
    actor: Actor


CycleCommand = OpenPromotionCycle | ClosePromotionCycle
CaseCommand = (
    NominateForPromotion
    | AddPromotionEvidence
    | NamePromotionReviewers
    | ReviewPromotion
    | DecidePromotion
    | WithdrawNomination
)
PromotionWorkflowCommand = CycleCommand | CaseCommand
