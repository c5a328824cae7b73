"""The promotion workflow's mutations: cycles, nominations, evidence, reviewers, reviews,
decisions and withdrawals.

Unlike the career mutations (HR only), these are run by several roles; the rules about
who may act on a case are the domain's (``domain.promotion_cases``: nominator, managers,
named reviewers, HR) and come back as payload errors (``NOT_ALLOWED_ON_CASE``,
``NOT_A_NAMED_REVIEWER``). Here only roles that can never act are refused, as a
top-level ``FORBIDDEN``: auditors always; employees except to review; everyone but HR
to open or close a cycle, name reviewers or decide. The token's subject is the actor:
for a manager or a reviewer it must be their person id.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date
from typing import Protocol, Self, TypeVar

import strawberry

from api.auth import Principal, Role
from api.context import Info
from api.errors import INTERNAL, ApiError, Forbidden, user_errors
from api.types.mutations.common import (
    MutationPayload,
    execute,
    expected_version_field,
    idempotency_key_field,
    mutation,
    parse_id_uuid,
    parse_optional_id_uuid,
    resolved_field,
)
from api.types.mutations.level_changes import EvidenceInput, evidence_by_area
from api.types.promotion_case import (
    CASE,
    CYCLE,
    PromotionCase,
    PromotionCycle,
    Recommendation,
    case_for,
)
from domain import case_commands as cc
from events.readmodels import case_queries as cq
from events.results import CommandResult

P = TypeVar("P", bound=MutationPayload)


class WorkflowInput(Protocol):
    @property
    def idempotency_key(self) -> str | None: ...

    @property
    def expected_version(self) -> int | None: ...

    def command(self, actor: cc.Actor) -> cc.PromotionWorkflowCommand: ...


def actor_of(principal: Principal) -> cc.Actor:
    try:
        person: uuid.UUID | None = uuid.UUID(principal.subject)
    except ValueError:
        person = None
    return cc.Actor(principal.subject, person, hr=principal.role is Role.HR)


async def run(
    info: Info,
    input: WorkflowInput,
    payload: type[P],
    roles: frozenset[Role],
    *,
    made_up_id: bool = False,
) -> P:
    """Run ``input``'s command as the caller (one of ``roles``) and report it.

    ``made_up_id``: the case or cycle id was made up here; the service then answers a
    replayed idempotency key about the first call's case or cycle."""
    context = info.context
    outcome = INTERNAL
    try:
        try:
            principal = context.require_principal()
            if principal.role not in roles:
                raise Forbidden("Your role may not do this in the promotion workflow.")
        except ApiError as exc:
            outcome = exc.code
            raise
        try:
            result = await execute(
                context,
                principal,
                input.command(actor_of(principal)),
                idempotency_key=input.idempotency_key,
                expected_version=input.expected_version,
                made_up_id=made_up_id,
            )
        except Exception as exc:
            errors = user_errors(exc)
            outcome = errors[0].code
            return payload.refused(errors)
        outcome = "ok"
        return payload.accepted(result)
    finally:
        context.observe_mutation(info.field_name, outcome)


HR_ONLY = frozenset({Role.HR})
NOMINATORS = frozenset({Role.HR, Role.MANAGER})
REVIEWERS = frozenset({Role.HR, Role.MANAGER, Role.EMPLOYEE})


# --- payloads ---------------------------------------------------------------------------


@strawberry.type
class PromotionCyclePayload(MutationPayload):
    cycle_id: strawberry.ID | None = None

    @resolved_field("The cycle after the write; null when refused.")
    async def cycle(self, info: Info) -> PromotionCycle | None:
        if self.cycle_id is None:
            return None
        engine = info.context.require_services().queries.engine
        row = await cq.get_cycle(engine, str(self.cycle_id))
        return None if row is None else PromotionCycle.from_row(row)

    @classmethod
    def accepted(cls, result: CommandResult) -> Self:
        payload = super().accepted(result)
        payload.cycle_id = strawberry.ID(str(result.event.data["cycle_id"]))
        return payload


@strawberry.type
class PromotionCasePayload(MutationPayload):
    case_id: strawberry.ID | None = strawberry.field(
        default=None, description="The case's id (a UUID); null when refused."
    )

    @resolved_field("The case after the write (as you may see it); null when refused.")
    async def promotion_case(self, info: Info) -> PromotionCase | None:
        if self.case_id is None:
            return None
        return await case_for(info.context, str(self.case_id))

    @classmethod
    def accepted(cls, result: CommandResult) -> Self:
        payload = super().accepted(result)
        payload.case_id = strawberry.ID(str(result.event.data["case_id"]))
        return payload


# --- inputs -----------------------------------------------------------------------------


def _ids(values: list[strawberry.ID], field: str) -> tuple[uuid.UUID, ...]:
    return tuple(parse_id_uuid(v, "Person", field) for v in values)


@strawberry.input(description="Open a promotion cycle (HR); nominations join it.")
class OpenPromotionCycleInput:
    name: str
    closes_on: date = strawberry.field(
        description="The planned last day of nominations (the cycle stays open until closed)."
    )
    reviewer_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="People (IDs) who review every case of the cycle."
    )
    cycle_id: strawberry.ID | None = strawberry.field(
        default=None, description="A UUID for the cycle; made up if absent."
    )
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field("the cycles stream")

    def command(self, actor: cc.Actor) -> cc.OpenPromotionCycle:
        return cc.OpenPromotionCycle(
            cycle_id=parse_optional_id_uuid(self.cycle_id, CYCLE, "cycleId") or uuid.uuid4(),
            name=self.name,
            closes_on=self.closes_on,
            reviewer_ids=_ids(self.reviewer_ids, "reviewerIds"),
            actor=actor,
        )


@strawberry.input(description="Close a promotion cycle (HR): no more nominations join it.")
class ClosePromotionCycleInput:
    cycle_id: strawberry.ID
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field("the cycles stream")

    def command(self, actor: cc.Actor) -> cc.ClosePromotionCycle:
        return cc.ClosePromotionCycle(parse_id_uuid(self.cycle_id, CYCLE, "cycleId"), actor)


@strawberry.input(description="Nominate someone you manage (or, as HR, anyone) for promotion.")
class NominateForPromotionInput:
    person_id: strawberry.ID
    to_level: str = strawberry.field(description="The next level of the person's track.")
    rationale: str
    evidence: list[EvidenceInput] = strawberry.field(default_factory=list)
    case_id: strawberry.ID | None = strawberry.field(
        default=None, description="A UUID for the case; made up if absent."
    )
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field("the case's stream")

    def command(self, actor: cc.Actor) -> cc.NominateForPromotion:
        return cc.NominateForPromotion(
            case_id=parse_optional_id_uuid(self.case_id, CASE, "caseId") or uuid.uuid4(),
            person_id=parse_id_uuid(self.person_id, "Person", "personId"),
            to_level=self.to_level,
            rationale=self.rationale,
            evidence=evidence_by_area(self.evidence),
            actor=actor,
        )


@strawberry.input(description="Add evidence for one development area to an undecided case.")
class AddEvidenceInput:
    case_id: strawberry.ID
    area: str
    text: str
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field("the case's stream")

    def command(self, actor: cc.Actor) -> cc.AddPromotionEvidence:
        return cc.AddPromotionEvidence(
            parse_id_uuid(self.case_id, CASE, "caseId"), self.area, self.text, actor
        )


@strawberry.input(description="Name reviewers of a case (HR), besides its cycle's.")
class NamePromotionReviewersInput:
    case_id: strawberry.ID
    reviewer_ids: list[strawberry.ID]
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field("the case's stream")

    def command(self, actor: cc.Actor) -> cc.NamePromotionReviewers:
        return cc.NamePromotionReviewers(
            parse_id_uuid(self.case_id, CASE, "caseId"),
            _ids(self.reviewer_ids, "reviewerIds"),
            actor,
        )


@strawberry.input(description="Review a case you are named reviewer of (on it or its cycle).")
class ReviewPromotionInput:
    case_id: strawberry.ID
    recommendation: Recommendation
    comment: str
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field("the case's stream")

    def command(self, actor: cc.Actor) -> cc.ReviewPromotion:
        return cc.ReviewPromotion(
            parse_id_uuid(self.case_id, CASE, "caseId"),
            self.recommendation.value,
            self.comment,
            actor,
        )


@strawberry.enum(description="HR's decision on a promotion case.")
class PromotionDecision(enum.Enum):
    APPROVE = "APPROVE"
    DECLINE = "DECLINE"


@strawberry.input(
    description="Decide a case (HR): APPROVE with `effectiveOn` records the promotion in the "
    "person's stream in the same transaction, under every promotion rule; DECLINE needs a "
    "`reason`."
)
class DecidePromotionInput:
    case_id: strawberry.ID
    decision: PromotionDecision
    effective_on: date | None = None
    reason: str | None = None
    experience_exception: str | None = strawberry.field(
        default=None, description="Why the target level's experience minimum is waived."
    )
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field("the case's stream")

    def command(self, actor: cc.Actor) -> cc.DecidePromotion:
        return cc.DecidePromotion(
            case_id=parse_id_uuid(self.case_id, CASE, "caseId"),
            approve=self.decision is PromotionDecision.APPROVE,
            actor=actor,
            effective_on=self.effective_on,
            reason=self.reason,
            experience_exception=self.experience_exception,
        )


@strawberry.input(description="Withdraw an undecided nomination (its nominator, managers, HR).")
class WithdrawNominationInput:
    case_id: strawberry.ID
    reason: str
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field("the case's stream")

    def command(self, actor: cc.Actor) -> cc.WithdrawNomination:
        return cc.WithdrawNomination(
            parse_id_uuid(self.case_id, CASE, "caseId"), self.reason, actor
        )


@strawberry.type
class PromotionWorkflowMutation:
    @mutation(description="Open a promotion cycle (HR only); at most one is open at a time.")
    async def open_promotion_cycle(
        self, info: Info, input: OpenPromotionCycleInput
    ) -> PromotionCyclePayload | None:
        return await run(
            info, input, PromotionCyclePayload, HR_ONLY, made_up_id=input.cycle_id is None
        )

    @mutation(description="Close a promotion cycle (HR only).")
    async def close_promotion_cycle(
        self, info: Info, input: ClosePromotionCycleInput
    ) -> PromotionCyclePayload | None:
        return await run(info, input, PromotionCyclePayload, HR_ONLY)

    @mutation(description="Nominate a person for promotion (their managers, or HR).")
    async def nominate_for_promotion(
        self, info: Info, input: NominateForPromotionInput
    ) -> PromotionCasePayload | None:
        return await run(
            info, input, PromotionCasePayload, NOMINATORS, made_up_id=input.case_id is None
        )

    @mutation(description="Add evidence to an undecided case (nominator, managers, HR).")
    async def add_evidence(
        self, info: Info, input: AddEvidenceInput
    ) -> PromotionCasePayload | None:
        return await run(info, input, PromotionCasePayload, NOMINATORS)

    @mutation(description="Name reviewers of a case (HR only).")
    async def name_promotion_reviewers(
        self, info: Info, input: NamePromotionReviewersInput
    ) -> PromotionCasePayload | None:
        return await run(info, input, PromotionCasePayload, HR_ONLY)

    @mutation(description="Review a case (named reviewers only).")
    async def review_promotion(
        self, info: Info, input: ReviewPromotionInput
    ) -> PromotionCasePayload | None:
        return await run(info, input, PromotionCasePayload, REVIEWERS)

    @mutation(description="Approve or decline a case (HR only).")
    async def decide_promotion(
        self, info: Info, input: DecidePromotionInput
    ) -> PromotionCasePayload | None:
        return await run(info, input, PromotionCasePayload, HR_ONLY)

    @mutation(description="Withdraw an undecided nomination (nominator, managers, HR).")
    async def withdraw_nomination(
        self, info: Info, input: WithdrawNominationInput
    ) -> PromotionCasePayload | None:
        return await run(info, input, PromotionCasePayload, NOMINATORS)
