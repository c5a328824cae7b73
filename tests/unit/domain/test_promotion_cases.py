"""Promotion cases and cycles: given events, when a command, then events or a refusal."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from domain import case_commands as cc
from domain import case_errors as cerr
from domain import case_events as ce
from domain import events as ev
from domain import promotion_cases as pc
from domain.errors import LadderError
from domain.state import PersonState, fold

from .helpers import CTX, TODAY, hired

HR = cc.Actor("hr-1", None, hr=True)
MANAGER_ID = uuid4()
MANAGER = cc.Actor(str(MANAGER_ID), MANAGER_ID)
REVIEWER_ID = uuid4()
REVIEWER = cc.Actor(str(REVIEWER_ID), REVIEWER_ID)
STRANGER_ID = uuid4()
STRANGER = cc.Actor(str(STRANGER_ID), STRANGER_ID)


def person(pid: UUID, *events: object) -> PersonState:
    # Hired as an APM with enough experience for PM.
    return fold([hired(pid, prior_years=3), *events])


def cycles_given(*events: ce.CycleEvent) -> pc.CyclesState:
    return pc.fold_cycles(list(events))


def case_given(*events: ce.CaseEvent) -> pc.CaseState:
    return pc.fold_case(list(events))


def opened(cycle_id: UUID, reviewers: tuple[UUID, ...] = ()) -> ce.PromotionCycleOpened:
    return ce.PromotionCycleOpened(
        cycle_id, "H1", TODAY + timedelta(days=30), tuple(str(r) for r in reviewers), "hr-1"
    )


def nominate(pid: UUID, actor: cc.Actor = MANAGER, **kw: object) -> cc.NominateForPromotion:
    values: dict[str, object] = {
        "case_id": uuid4(),
        "person_id": pid,
        "to_level": "pm",
        "rationale": "ships",
        "actor": actor,
        "evidence": {"analytics": "built the funnel"},
    }
    values.update(kw)
    return cc.NominateForPromotion(**values)  # type: ignore[arg-type]


def nominated_case(pid: UUID, cycle_id: UUID | None = None) -> ce.PromotionNominated:
    return ce.PromotionNominated(
        case_id=uuid4(),
        person_id=pid,
        track="product",
        from_level="apm",
        to_level="pm",
        ladder_version=1,
        rationale="ships",
        evidence={"analytics": "funnel"},
        nominated_by=str(MANAGER_ID),
        nominated_on=TODAY,
        cycle_id=cycle_id,
    )


def refused(code: str, call: object) -> LadderError:
    with pytest.raises(LadderError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.code == code, caught.value
    return caught.value


# --- cycles -----------------------------------------------------------------------------


def test_hr_opens_a_cycle_with_its_reviewers() -> None:
    cid = uuid4()
    command = cc.OpenPromotionCycle(cid, " H1 ", TODAY + timedelta(days=30), HR, (REVIEWER_ID,))
    [event] = pc.decide_cycle(cycles_given(), command, CTX, employed=frozenset({REVIEWER_ID}))
    assert isinstance(event, ce.PromotionCycleOpened)
    assert (event.name, event.reviewer_ids) == ("H1", (str(REVIEWER_ID),))


def test_reviewers_must_be_employed_people() -> None:
    command = cc.OpenPromotionCycle(uuid4(), "H1", TODAY, HR, (REVIEWER_ID,))
    error = refused("PERSON_NOT_FOUND", lambda: pc.decide_cycle(cycles_given(), command, CTX))
    assert (error.field, error.ids["personId"]) == ("reviewerIds", str(REVIEWER_ID))


def test_only_one_cycle_is_open_at_a_time() -> None:
    first = uuid4()
    command = cc.OpenPromotionCycle(uuid4(), "H2", TODAY, HR)
    error = refused(
        "PROMOTION_CYCLE_ALREADY_OPEN",
        lambda: pc.decide_cycle(cycles_given(opened(first)), command, CTX),
    )
    assert error.ids["cycleId"] == str(first)


def test_a_closed_cycle_lets_the_next_one_open() -> None:
    first = uuid4()
    given = cycles_given(opened(first), ce.PromotionCycleClosed(first, "hr-1"))
    [event] = pc.decide_cycle(given, cc.OpenPromotionCycle(uuid4(), "H2", TODAY, HR), CTX)
    assert isinstance(event, ce.PromotionCycleOpened)


def test_a_cycle_closes_once_and_only_by_hr() -> None:
    cid = uuid4()
    closed = cycles_given(opened(cid), ce.PromotionCycleClosed(cid, "hr-1"))
    refused(
        "PROMOTION_CYCLE_CLOSED",
        lambda: pc.decide_cycle(closed, cc.ClosePromotionCycle(cid, HR), CTX),
    )
    refused(
        "NOT_ALLOWED_ON_CASE",
        lambda: pc.decide_cycle(
            cycles_given(opened(cid)), cc.ClosePromotionCycle(cid, MANAGER), CTX
        ),
    )
    refused(
        "PROMOTION_CYCLE_NOT_FOUND",
        lambda: pc.decide_cycle(cycles_given(), cc.ClosePromotionCycle(cid, HR), CTX),
    )


# --- nominations ------------------------------------------------------------------------


def _nominate(
    command: cc.NominateForPromotion,
    state: PersonState,
    cycles: pc.CyclesState | None = None,
    managers: frozenset[UUID] = frozenset({MANAGER_ID}),
    open_case: UUID | None = None,
) -> ce.PromotionNominated:
    return pc.decide_nomination(
        pc.CaseState(),
        state,
        cycles or cycles_given(),
        command,
        CTX,
        managers=managers,
        open_case=open_case,
    )


def test_a_manager_nominates_a_report_who_joins_the_open_cycle() -> None:
    pid, cid = uuid4(), uuid4()
    event = _nominate(nominate(pid), person(pid), cycles_given(opened(cid)))
    assert (event.from_level, event.to_level, event.cycle_id) == ("apm", "pm", cid)
    assert event.nominated_by == str(MANAGER_ID)
    assert event.evidence == {"analytics": "built the funnel"}


def test_a_nomination_without_an_open_cycle_is_off_cycle() -> None:
    pid = uuid4()
    assert _nominate(nominate(pid, HR), person(pid), managers=frozenset()).cycle_id is None


def test_only_hr_or_a_manager_above_the_person_nominates() -> None:
    pid = uuid4()
    refused("NOT_ALLOWED_ON_CASE", lambda: _nominate(nominate(pid, STRANGER), person(pid)))


def test_nobody_nominates_themselves() -> None:
    pid = uuid4()
    me = cc.Actor(str(pid), pid)
    refused("SELF_REVIEW", lambda: _nominate(nominate(pid, me), person(pid)))


def test_a_nomination_targets_the_next_level_with_known_areas() -> None:
    pid = uuid4()
    refused("LEVEL_SKIPPED", lambda: _nominate(nominate(pid, to_level="senior_pm"), person(pid)))
    refused("NOT_A_PROMOTION", lambda: _nominate(nominate(pid, to_level="apm"), person(pid)))
    refused(
        "VALIDATION_ERROR",
        lambda: _nominate(nominate(pid, evidence={"juggling": "x"}), person(pid)),
    )


def test_a_person_has_one_undecided_case_at_a_time() -> None:
    pid = uuid4()
    refused(
        "NOMINATION_ALREADY_OPEN",
        lambda: _nominate(nominate(pid), person(pid), open_case=uuid4()),
    )


def test_a_departed_person_is_not_nominated() -> None:
    pid = uuid4()
    gone = person(pid, ev.PersonDeparted(pid, TODAY - timedelta(days=5), "left"))
    refused("PERSON_DEPARTED", lambda: _nominate(nominate(pid), gone))


# --- evidence, reviewers, reviews, withdrawal -------------------------------------------

AREAS = frozenset({"analytics", "ux_design"})


def _on_case(
    case: pc.CaseState,
    command: cc.AddPromotionEvidence
    | cc.NamePromotionReviewers
    | cc.ReviewPromotion
    | cc.WithdrawNomination,
    cycles: pc.CyclesState | None = None,
) -> ce.CaseEvent:
    return pc.decide_case(
        case,
        cycles or cycles_given(),
        command,
        CTX,
        managers=frozenset({MANAGER_ID}),
        areas=AREAS,
    )


def test_the_nominator_adds_evidence_and_a_stranger_may_not() -> None:
    nomination = nominated_case(uuid4())
    case = case_given(nomination)
    event = _on_case(case, cc.AddPromotionEvidence(nomination.case_id, "ux_design", "A/B", MANAGER))
    assert isinstance(event, ce.PromotionEvidenceAdded)
    evolved = pc.evolve_case(case, event)
    assert evolved.evidence == {"analytics": ("funnel",), "ux_design": ("A/B",)}
    refused(
        "NOT_ALLOWED_ON_CASE",
        lambda: _on_case(
            case, cc.AddPromotionEvidence(nomination.case_id, "ux_design", "x", STRANGER)
        ),
    )
    refused(
        "VALIDATION_ERROR",
        lambda: _on_case(case, cc.AddPromotionEvidence(nomination.case_id, "juggling", "x", HR)),
    )


def test_only_reviewers_named_on_the_case_or_its_cycle_review() -> None:
    pid, cid = uuid4(), uuid4()
    nomination = nominated_case(pid, cid)
    case = case_given(nomination)
    review = cc.ReviewPromotion(nomination.case_id, "STRONG_YES", "clear case", REVIEWER)
    refused("NOT_A_NAMED_REVIEWER", lambda: _on_case(case, review, cycles_given(opened(cid))))
    refused("NOT_A_NAMED_REVIEWER", lambda: _on_case(case, replace(review, actor=HR)))
    by_cycle = _on_case(case, review, cycles_given(opened(cid, (REVIEWER_ID,))))
    assert isinstance(by_cycle, ce.PromotionReviewed)
    named = pc.evolve_case(
        case, ce.PromotionReviewersNamed(nomination.case_id, pid, (str(REVIEWER_ID),), "hr-1")
    )
    by_case = _on_case(named, review)
    assert isinstance(by_case, ce.PromotionReviewed)
    assert pc.evolve_case(named, by_case).reviews == {str(REVIEWER_ID): "STRONG_YES"}


def test_a_review_needs_a_known_recommendation() -> None:
    pid, cid = uuid4(), uuid4()
    nomination = nominated_case(pid, cid)
    review = cc.ReviewPromotion(nomination.case_id, "MAYBE", "hmm", REVIEWER)
    refused(
        "VALIDATION_ERROR",
        lambda: _on_case(case_given(nomination), review, cycles_given(opened(cid, (REVIEWER_ID,)))),
    )


def test_the_nominee_is_never_named_reviewer_of_their_case() -> None:
    pid = uuid4()
    nomination = nominated_case(pid)
    name = cc.NamePromotionReviewers(nomination.case_id, (pid,), HR)
    refused("SELF_REVIEW", lambda: _on_case(case_given(nomination), name))
    refused(
        "NOT_ALLOWED_ON_CASE",
        lambda: _on_case(
            case_given(nomination), replace(name, reviewer_ids=(REVIEWER_ID,), actor=MANAGER)
        ),
    )


def test_a_withdrawn_case_takes_nothing_more() -> None:
    nomination = nominated_case(uuid4())
    case = case_given(nomination)
    withdraw = cc.WithdrawNomination(nomination.case_id, "not yet", MANAGER)
    event = _on_case(case, withdraw)
    assert isinstance(event, ce.NominationWithdrawn)
    closed = pc.evolve_case(case, event)
    assert closed.status is pc.CaseStatus.WITHDRAWN
    refused("PROMOTION_CASE_CLOSED", lambda: _on_case(closed, withdraw))
    refused(
        "PROMOTION_CASE_NOT_FOUND",
        lambda: _on_case(pc.CaseState(), withdraw),
    )


# --- decisions --------------------------------------------------------------------------


def test_an_approval_records_the_promotion_under_the_promotion_rules() -> None:
    pid = uuid4()
    nomination = nominated_case(pid)
    case = case_given(nomination)
    on = TODAY + timedelta(days=14)
    decision = cc.DecidePromotion(nomination.case_id, True, HR, effective_on=on)
    [approved], [promotion] = pc.decide_decision(case, person(pid), decision, CTX)
    assert isinstance(approved, ce.PromotionApproved)
    assert isinstance(promotion, ev.PromotionRecorded)
    assert approved.promotion_event_id == promotion.event_id
    assert (promotion.to_level, promotion.effective_on) == ("pm", on)
    assert promotion.rationale == "ships"
    assert promotion.evidence == {"analytics": "funnel"}


def test_an_approval_that_breaks_a_promotion_rule_is_refused_with_its_code() -> None:
    pid = uuid4()
    nomination = nominated_case(pid)
    green = fold([hired(pid, on=date(2025, 6, 1))])  # no experience for PM
    decision = cc.DecidePromotion(nomination.case_id, True, HR, effective_on=TODAY)
    refused(
        "INSUFFICIENT_EXPERIENCE",
        lambda: pc.decide_decision(case_given(nomination), green, decision, CTX),
    )
    already = person(
        pid, ev.PromotionRecorded(pid, date(2025, 1, 6), "product", "apm", "pm", 1, "r", {}, None)
    )
    refused(
        "NOT_A_PROMOTION",
        lambda: pc.decide_decision(case_given(nomination), already, decision, CTX),
    )


def test_only_hr_decides_and_a_decline_needs_a_reason() -> None:
    pid = uuid4()
    nomination = nominated_case(pid)
    case = case_given(nomination)
    refused(
        "NOT_ALLOWED_ON_CASE",
        lambda: pc.decide_decision(
            case, person(pid), cc.DecidePromotion(nomination.case_id, True, MANAGER, TODAY), CTX
        ),
    )
    refused(
        "VALIDATION_ERROR",
        lambda: pc.decide_decision(
            case, person(pid), cc.DecidePromotion(nomination.case_id, False, HR), CTX
        ),
    )
    [declined], person_events = pc.decide_decision(
        case, person(pid), cc.DecidePromotion(nomination.case_id, False, HR, reason="soon"), CTX
    )
    assert isinstance(declined, ce.PromotionDeclined)
    assert person_events == []
    assert pc.evolve_case(case, declined).status is pc.CaseStatus.DECLINED


def test_an_approval_needs_its_effective_date() -> None:
    pid = uuid4()
    nomination = nominated_case(pid)
    error = refused(
        "VALIDATION_ERROR",
        lambda: pc.decide_decision(
            case_given(nomination),
            person(pid),
            cc.DecidePromotion(nomination.case_id, True, HR),
            CTX,
        ),
    )
    assert error.field == "effectiveOn"


def test_recommendations_sum_to_a_score_for_calibration() -> None:
    assert pc.recommendation_score({"a": "STRONG_YES", "b": "YES", "c": "NO"}) == 2


def test_workflow_error_codes_are_stable_and_unique_among_all_domain_errors() -> None:
    import inspect
    import re
    from types import ModuleType

    from domain import errors

    def codes_in(module: ModuleType) -> list[str]:
        return [
            cls.code
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, LadderError)
            and cls is not LadderError
            and cls.__module__ == module.__name__
        ]

    ours = codes_in(cerr)
    assert len(ours) == 11
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", code) for code in ours)
    everything = ours + codes_in(errors)
    assert len(everything) == len(set(everything))
