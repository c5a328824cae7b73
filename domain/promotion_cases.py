"""Promotion cases and cycles, pure: state, ``decide`` and ``evolve`` (commands in
``domain.case_commands``, errors in ``domain.case_errors``).

The workflow (events in ``domain.case_events``):

* HR opens a cycle (``OpenPromotionCycle``), naming its reviewers; at most one cycle is
  open at a time; HR closes it (``ClosePromotionCycle``).
* A manager nominates one of their reports (anyone below them in the org chart), or HR
  anyone, for the next level of their track (``NominateForPromotion``) with a rationale
  and evidence per development area of the ladder. The nomination joins the open cycle
  (off-cycle when none is open). A person has at most one undecided case.
* The nominator, the person's managers and HR add evidence and may withdraw it; HR names
  reviewers of the case; the named reviewers (of the case or of its cycle) review it.
* HR decides: an approval records the ``PromotionRecorded`` in the person's stream under
  every rule of ``domain.rules`` (a rule that refuses it refuses the approval, with the
  rule's own code), in the same transaction as ``PromotionApproved``; or a decline.

Who acts is part of each command (``Actor``): the rules about the actor's relation to the
case (nominator, manager, named reviewer, HR) are decided here like any other rule; the
API only refuses roles that can never act (an auditor, a token without a person).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from uuid import UUID

from domain import case_events as ce
from domain import checks, errors
from domain import commands as cmd
from domain import events as ev
from domain.career import ACTIVE
from domain.case_commands import (
    Actor,
    AddPromotionEvidence,
    CycleCommand,
    DecidePromotion,
    NamePromotionReviewers,
    NominateForPromotion,
    OpenPromotionCycle,
    ReviewPromotion,
    WithdrawNomination,
)
from domain.case_errors import (
    NominationAlreadyOpen,
    NotAllowedOnCase,
    NotANamedReviewer,
    PromotionCaseClosed,
    PromotionCaseExists,
    PromotionCaseNotFound,
    PromotionCycleAlreadyOpen,
    PromotionCycleClosed,
    PromotionCycleExists,
    PromotionCycleNotFound,
    SelfReview,
)
from domain.checks import DecisionContext
from domain.rules import decide as decide_person
from domain.state import PersonState

MAX_REVIEWERS = 20
RECOMMENDATIONS = ("STRONG_YES", "YES", "NO", "STRONG_NO")
RECOMMENDATION_WEIGHTS = {"STRONG_YES": 2, "YES": 1, "NO": -1, "STRONG_NO": -2}
"""How the calibration view sums recommendations to sort nominees for comparison."""

# --- state ------------------------------------------------------------------------------


class CaseStatus(enum.StrEnum):
    NOMINATED = "NOMINATED"
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    WITHDRAWN = "WITHDRAWN"


@dataclass(frozen=True, slots=True)
class Cycle:
    cycle_id: UUID
    name: str
    closes_on: date
    reviewer_ids: frozenset[str]
    open: bool = True


@dataclass(frozen=True, slots=True)
class CyclesState:
    """Every cycle, from the ``promotioncycles-all`` stream."""

    cycles: Mapping[UUID, Cycle] = field(default_factory=dict)
    version: int = 0

    @property
    def open_cycle(self) -> Cycle | None:
        return next((c for c in self.cycles.values() if c.open), None)


@dataclass(frozen=True, slots=True)
class CaseState:
    """One case, folded from its stream (``status`` None: no such case yet)."""

    case_id: UUID | None = None
    person_id: UUID | None = None
    track: str = ""
    from_level: str = ""
    to_level: str = ""
    rationale: str = ""
    nominated_by: str = ""
    cycle_id: UUID | None = None
    status: CaseStatus | None = None
    evidence: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reviewer_ids: frozenset[str] = frozenset()
    reviews: Mapping[str, str] = field(default_factory=dict)
    """Reviewer id -> their latest recommendation."""
    version: int = 0


def evolve_cycles(state: CyclesState, event: ce.CycleEvent) -> CyclesState:
    """Never raises: an event for an unknown cycle changes nothing."""
    cycles = dict(state.cycles)
    if isinstance(event, ce.PromotionCycleOpened):
        cycles[event.cycle_id] = Cycle(
            event.cycle_id, event.name, event.closes_on, frozenset(event.reviewer_ids)
        )
    elif isinstance(event, ce.PromotionCycleClosed) and event.cycle_id in cycles:
        cycles[event.cycle_id] = replace(cycles[event.cycle_id], open=False)
    return CyclesState(cycles, state.version + 1)


def evolve_case(state: CaseState, event: ce.CaseEvent) -> CaseState:
    """Never raises."""
    version = state.version + 1
    if isinstance(event, ce.PromotionNominated):
        return CaseState(
            case_id=event.case_id,
            person_id=event.person_id,
            track=event.track,
            from_level=event.from_level,
            to_level=event.to_level,
            rationale=event.rationale,
            nominated_by=event.nominated_by,
            cycle_id=event.cycle_id,
            status=CaseStatus.NOMINATED,
            evidence={k: (v,) for k, v in event.evidence.items()},
            version=version,
        )
    if isinstance(event, ce.PromotionEvidenceAdded):
        evidence = dict(state.evidence)
        evidence[event.area] = (*evidence.get(event.area, ()), event.evidence)
        return replace(state, evidence=evidence, version=version)
    if isinstance(event, ce.PromotionReviewersNamed):
        named = state.reviewer_ids | frozenset(event.reviewer_ids)
        return replace(state, reviewer_ids=named, version=version)
    if isinstance(event, ce.PromotionReviewed):
        reviews = {**state.reviews, event.reviewer_id: event.recommendation}
        return replace(state, reviews=reviews, version=version)
    if isinstance(event, ce.PromotionApproved):
        return replace(state, status=CaseStatus.APPROVED, version=version)
    if isinstance(event, ce.PromotionDeclined):
        return replace(state, status=CaseStatus.DECLINED, version=version)
    return replace(state, status=CaseStatus.WITHDRAWN, version=version)


def fold_case(events: list[ce.CaseEvent]) -> CaseState:
    state = CaseState()
    for event in events:
        state = evolve_case(state, event)
    return state


def fold_cycles(events: list[ce.CycleEvent]) -> CyclesState:
    state = CyclesState()
    for event in events:
        state = evolve_cycles(state, event)
    return state


# --- deciding: cycles -------------------------------------------------------------------


def _require_hr(actor: Actor, what: str) -> None:
    if not actor.hr:
        raise NotAllowedOnCase(f"only HR may {what}")


def _reviewers(
    ids: tuple[UUID, ...], employed: frozenset[UUID], person_id: UUID | None = None
) -> tuple[str, ...]:
    """The reviewers as recorded; each must be employed (``employed``: those of ``ids``
    the service found active)."""
    if len(ids) > MAX_REVIEWERS:
        raise errors.InvalidInput(
            f"at most {MAX_REVIEWERS} reviewers may be named", field="reviewerIds"
        )
    if person_id is not None and person_id in ids:
        raise SelfReview(
            "the person the case is about cannot review it",
            field="reviewerIds",
            ids={"personId": person_id},
        )
    for reviewer in ids:
        if reviewer not in employed:
            raise errors.PersonNotFound(
                f"reviewer {reviewer} is not an employed person",
                field="reviewerIds",
                ids={"personId": reviewer},
            )
    return tuple(dict.fromkeys(str(i) for i in ids))


def decide_cycle(
    state: CyclesState,
    command: CycleCommand,
    ctx: DecisionContext,
    *,
    employed: frozenset[UUID] = frozenset(),
) -> list[ce.CycleEvent]:
    """The events ``command`` records in the cycles stream; raises ``LadderError``.
    ``employed``: the reviewers named that are employed people."""
    ids = {"cycleId": command.cycle_id}
    if isinstance(command, OpenPromotionCycle):
        _require_hr(command.actor, "open a promotion cycle")
        if command.cycle_id in state.cycles:
            raise PromotionCycleExists(f"cycle {command.cycle_id} already exists", ids=ids)
        current = state.open_cycle
        if current is not None:
            raise PromotionCycleAlreadyOpen(
                f"cycle {current.name!r} is open; close it first",
                ids={"cycleId": current.cycle_id},
            )
        name = checks.text(command.name, "name", max_len=checks.MAX_NAME)
        checks.not_too_far_ahead(command.closes_on, ctx, date_field="closesOn", ids=ids)
        return [
            ce.PromotionCycleOpened(
                cycle_id=command.cycle_id,
                name=name,
                closes_on=command.closes_on,
                reviewer_ids=_reviewers(command.reviewer_ids, employed),
                opened_by=command.actor.subject,
            )
        ]
    _require_hr(command.actor, "close a promotion cycle")
    cycle = state.cycles.get(command.cycle_id)
    if cycle is None:
        raise PromotionCycleNotFound(f"no cycle {command.cycle_id}", ids=ids)
    if not cycle.open:
        raise PromotionCycleClosed(f"cycle {cycle.name!r} is already closed", ids=ids)
    return [ce.PromotionCycleClosed(cycle_id=command.cycle_id, closed_by=command.actor.subject)]


# --- deciding: cases --------------------------------------------------------------------


def _manages(actor: Actor, managers: frozenset[UUID]) -> bool:
    return actor.person_id is not None and actor.person_id in managers


def decide_nomination(
    case: CaseState,
    person: PersonState,
    cycles: CyclesState,
    command: NominateForPromotion,
    ctx: DecisionContext,
    *,
    managers: frozenset[UUID],
    open_case: UUID | None,
) -> ce.PromotionNominated:
    """A nomination, judged with the person's state, the chain of people above them
    today (``managers``) and the person's undecided case if any (``open_case``)."""
    pid = command.person_id
    ids: dict[str, object] = {"personId": pid, "caseId": command.case_id}
    if case.status is not None:
        raise PromotionCaseExists(f"case {command.case_id} already exists", ids=ids)
    actor = command.actor
    if actor.person_id == pid:
        raise SelfReview("nobody nominates themselves", field="personId", ids=ids)
    if not actor.hr and not _manages(actor, managers):
        raise NotAllowedOnCase(
            "only HR or one of the person's managers may nominate them",
            field="personId",
            ids=ids,
        )
    career = checks.existing(person, pid)
    if career.status != ACTIVE:
        raise errors.PersonDepartedError(f"person {pid} is not employed", ids=ids)
    if open_case is not None and open_case != command.case_id:
        raise NominationAlreadyOpen(
            f"person {pid} already has an undecided case {open_case}",
            ids={"personId": pid, "caseId": open_case},
        )
    ladder = ctx.ladder(career.track)
    current = checks.level_of(ladder, career.level, "personId")
    target = checks.level_of(ladder, command.to_level, "toLevel")
    level_ids = {**ids, "fromLevel": current.key, "toLevel": target.key}
    if target.rank <= current.rank:
        raise errors.NotAPromotion(
            f"{target.key!r} does not rank above {current.key!r}", field="toLevel", ids=level_ids
        )
    up = ladder.next_level(current.key)
    if up is not None and up.key != target.key:
        raise errors.LevelSkipped(
            f"a promotion from {current.title!r} goes to {up.title!r}, not {target.title!r}",
            field="toLevel",
            ids=level_ids,
        )
    evidence = {
        checks.area(ladder, key, "evidence"): checks.text(value, "evidence")
        for key, value in command.evidence.items()
    }
    cycle = cycles.open_cycle
    return ce.PromotionNominated(
        case_id=command.case_id,
        person_id=pid,
        track=ladder.track,
        from_level=current.key,
        to_level=target.key,
        ladder_version=ladder.version,
        rationale=checks.text(command.rationale, "rationale"),
        evidence=evidence,
        nominated_by=actor.subject,
        nominated_on=ctx.today,
        cycle_id=None if cycle is None else cycle.cycle_id,
    )


def _open_case(case: CaseState, case_id: UUID) -> UUID:
    """The person of an undecided case; raises when there is none."""
    if case.status is None or case.person_id is None:
        raise PromotionCaseNotFound(f"no promotion case {case_id}", ids={"caseId": case_id})
    if case.status is not CaseStatus.NOMINATED:
        raise PromotionCaseClosed(
            f"case {case_id} is {case.status.value.lower()}", ids={"caseId": case_id}
        )
    return case.person_id


def _may_act(actor: Actor, case: CaseState, managers: frozenset[UUID], what: str) -> None:
    if actor.hr or actor.subject == case.nominated_by or _manages(actor, managers):
        return
    raise NotAllowedOnCase(
        f"only HR, the nominator or the person's managers may {what}",
        field="caseId",
        ids={"caseId": str(case.case_id)},
    )


def decide_case(
    case: CaseState,
    cycles: CyclesState,
    command: AddPromotionEvidence | NamePromotionReviewers | ReviewPromotion | WithdrawNomination,
    ctx: DecisionContext,
    *,
    managers: frozenset[UUID],
    areas: frozenset[str],
    employed: frozenset[UUID] = frozenset(),
) -> ce.CaseEvent:
    """Evidence, reviewers, reviews and withdrawals of an undecided case. ``managers``:
    the chain above the person today; ``areas``: the development areas of their ladder;
    ``employed``: the reviewers named that are employed people."""
    person_id = _open_case(case, command.case_id)
    actor = command.actor
    ids = {"caseId": command.case_id, "personId": person_id}
    if isinstance(command, AddPromotionEvidence):
        _may_act(actor, case, managers, "add evidence")
        if command.area not in areas:
            raise errors.InvalidInput(
                f"{command.area!r} is not a development area of the ladder", field="area", ids=ids
            )
        return ce.PromotionEvidenceAdded(
            case_id=command.case_id,
            person_id=person_id,
            area=command.area,
            evidence=checks.text(command.evidence, "evidence"),
            added_by=actor.subject,
        )
    if isinstance(command, NamePromotionReviewers):
        _require_hr(actor, "name the reviewers of a case")
        return ce.PromotionReviewersNamed(
            case_id=command.case_id,
            person_id=person_id,
            reviewer_ids=_reviewers(command.reviewer_ids, employed, person_id),
            named_by=actor.subject,
        )
    if isinstance(command, ReviewPromotion):
        me = None if actor.person_id is None else str(actor.person_id)
        if me == str(person_id):
            raise SelfReview("nobody reviews their own case", field="caseId", ids=ids)
        cycle = cycles.cycles.get(case.cycle_id) if case.cycle_id is not None else None
        named = case.reviewer_ids | (cycle.reviewer_ids if cycle is not None else frozenset())
        if me is None or me not in named:
            raise NotANamedReviewer(
                "only the reviewers named on the case or its cycle may review it", ids=ids
            )
        if command.recommendation not in RECOMMENDATIONS:
            raise errors.InvalidInput(
                f"recommendation must be one of {', '.join(RECOMMENDATIONS)}",
                field="recommendation",
                ids=ids,
            )
        return ce.PromotionReviewed(
            case_id=command.case_id,
            person_id=person_id,
            reviewer_id=me,
            recommendation=command.recommendation,
            comment=checks.text(command.comment, "comment"),
        )
    _may_act(actor, case, managers, "withdraw the nomination")
    return ce.NominationWithdrawn(
        case_id=command.case_id,
        person_id=person_id,
        reason=checks.text(command.reason, "reason"),
        withdrawn_by=actor.subject,
    )


def joined_evidence(case: CaseState) -> dict[str, str]:
    """The case's evidence as a promotion records it: one text per development area."""
    return {area: "\n\n".join(texts) for area, texts in case.evidence.items() if texts}


def decide_decision(
    case: CaseState, person: PersonState, command: DecidePromotion, ctx: DecisionContext
) -> tuple[list[ce.CaseEvent], list[ev.PersonEvent]]:
    """HR's decision: (events of the case stream, events of the person's stream).

    An approval records the promotion under every rule of ``domain.rules.decide`` (a rule
    that refuses it raises its own error, so nothing is written)."""
    person_id = _open_case(case, command.case_id)
    _require_hr(command.actor, "decide a promotion")
    ids = {"caseId": command.case_id, "personId": person_id}
    if not command.approve:
        reason = checks.text(command.reason, "reason")
        declined = ce.PromotionDeclined(
            case_id=command.case_id,
            person_id=person_id,
            reason=reason,
            decided_by=command.actor.subject,
        )
        return [declined], []
    if command.effective_on is None:
        raise errors.InvalidInput(
            "an approval needs its effective date", field="effectiveOn", ids=ids
        )
    promotion = decide_person(
        person,
        cmd.RecordPromotion(
            person_id=person_id,
            to_level=case.to_level,
            effective_on=command.effective_on,
            rationale=case.rationale,
            evidence=joined_evidence(case),
            experience_exception=command.experience_exception,
        ),
        ctx,
    )
    recorded = promotion[0]
    approved = ce.PromotionApproved(
        case_id=command.case_id,
        person_id=person_id,
        effective_on=command.effective_on,
        promotion_event_id=recorded.event_id,
        decided_by=command.actor.subject,
    )
    return [approved], promotion


def recommendation_score(reviews: Mapping[str, str]) -> int:
    """The sum of the reviewers' recommendation weights (``RECOMMENDATION_WEIGHTS``)."""
    return sum(RECOMMENDATION_WEIGHTS.get(r, 0) for r in reviews.values())
