from dataclasses import replace
from datetime import date
from uuid import uuid4

from domain import commands as cmd
from domain import events as ev
from domain.readiness import LEADERSHIP_MONTHS

from .helpers import CTX, given, hired, promote, promoted, then_refused, when


def test_a_promotion_goes_to_the_next_level() -> None:
    pid = uuid4()
    [event] = when(given(hired(pid, prior_years=2)), promote(pid, "pm", date(2021, 1, 4)))
    assert isinstance(event, ev.PromotionRecorded)
    assert (event.from_level, event.to_level) == ("apm", "pm")
    assert event.ladder_version == CTX.ladders["product"].version
    assert event.experience_exception is None


def test_a_promotion_changes_the_level_from_its_effective_date() -> None:
    pid = uuid4()
    state = given(hired(pid, prior_years=2), promoted(pid, date(2021, 1, 4), "apm", "pm"))
    assert state.level == "pm"
    assert state.level_since == date(2021, 1, 4)
    assert state.view_on(date(2021, 1, 3)).level == "apm"


def test_promotion_cannot_skip_a_level() -> None:
    pid = uuid4()
    error = then_refused(
        given(hired(pid, prior_years=20)),
        promote(pid, "senior_pm", date(2021, 1, 4)),
        "LEVEL_SKIPPED",
    )
    assert error.field == "toLevel"
    assert error.ids["toLevel"] == "senior_pm"
    assert error.ids["personId"] == str(pid)


def test_a_promotion_down_the_ladder_is_not_a_promotion() -> None:
    pid = uuid4()
    state = given(hired(pid, level="senior_pm", prior_years=9))
    then_refused(state, promote(pid, "pm", date(2021, 1, 4)), "NOT_A_PROMOTION")


def test_a_promotion_to_the_current_level_is_not_a_promotion() -> None:
    pid = uuid4()
    state = given(hired(pid, level="pm", prior_years=9))
    then_refused(state, promote(pid, "pm", date(2021, 1, 4)), "NOT_A_PROMOTION")


def test_a_promotion_to_an_unknown_level_is_refused() -> None:
    pid = uuid4()
    error = then_refused(given(hired(pid)), promote(pid, "ceo", date(2021, 1, 4)), "UNKNOWN_LEVEL")
    assert error.field == "toLevel"


def test_a_promotion_without_enough_experience_is_refused() -> None:
    pid = uuid4()
    error = then_refused(
        given(hired(pid, prior_years=0.5)),
        promote(pid, "pm", date(2021, 1, 4)),
        "INSUFFICIENT_EXPERIENCE",
    )
    assert error.field == "experienceException"


def test_experience_counts_prior_years_plus_tenure() -> None:
    pid = uuid4()
    # 0.5 prior years + 1.5 years of tenure = 2 years, the PM minimum.
    state = given(hired(pid, on=date(2020, 1, 1), prior_years=0.5))
    [event] = when(state, promote(pid, "pm", date(2021, 7, 3)))
    assert isinstance(event, ev.PromotionRecorded)


def test_a_promotion_with_an_experience_exception_keeps_the_reason() -> None:
    pid = uuid4()
    [event] = when(
        given(hired(pid)),
        promote(pid, "pm", date(2020, 6, 1), experience_exception="exceptional launch"),
    )
    assert isinstance(event, ev.PromotionRecorded)
    assert event.experience_exception == "exceptional launch"


def test_a_blank_experience_exception_is_no_exception() -> None:
    pid = uuid4()
    then_refused(
        given(hired(pid)),
        promote(pid, "pm", date(2020, 6, 1), experience_exception="   "),
        "INSUFFICIENT_EXPERIENCE",
    )


def test_an_exception_that_waives_nothing_is_not_recorded() -> None:
    pid = uuid4()
    [event] = when(
        given(hired(pid, prior_years=3)),
        promote(pid, "pm", date(2020, 6, 1), experience_exception="just in case"),
    )
    assert isinstance(event, ev.PromotionRecorded)
    assert event.experience_exception is None


def test_auditors_can_list_every_experience_exception() -> None:
    pid = uuid4()
    state = given(
        hired(pid),
        promoted(pid, date(2020, 6, 1), "apm", "pm", exception="exceptional launch"),
    )
    assert [p.experience_exception for p in state.experience_exceptions] == ["exceptional launch"]


def test_evidence_is_kept_per_development_area() -> None:
    pid = uuid4()
    evidence = {"business_impact": "grew revenue 20%", "ux_design": "ran the usability study"}
    [event] = when(
        given(hired(pid, prior_years=3)), promote(pid, "pm", date(2020, 6, 1), evidence=evidence)
    )
    assert isinstance(event, ev.PromotionRecorded)
    assert event.evidence == evidence


def test_evidence_for_an_unknown_development_area_is_refused() -> None:
    pid = uuid4()
    error = then_refused(
        given(hired(pid, prior_years=3)),
        promote(pid, "pm", date(2020, 6, 1), evidence={"juggling": "three balls"}),
        "VALIDATION_ERROR",
    )
    assert error.field == "evidence"


def test_a_promotion_needs_a_rationale() -> None:
    from domain import commands as cmd

    pid = uuid4()
    command = cmd.RecordPromotion(pid, "pm", date(2020, 6, 1), rationale="")
    error = then_refused(given(hired(pid, prior_years=3)), command, "VALIDATION_ERROR")
    assert error.field == "rationale"


def test_a_promotion_of_an_unknown_person_is_refused() -> None:
    from domain.person import PersonState

    then_refused(PersonState(), promote(uuid4(), "pm", date(2020, 6, 1)), "PERSON_NOT_FOUND")


def test_a_promotion_on_a_track_without_a_published_ladder_is_refused() -> None:
    from domain.person import DecisionContext

    pid = uuid4()
    ctx = DecisionContext(today=CTX.today, ladders={})
    then_refused(
        given(hired(pid, prior_years=3)), promote(pid, "pm", date(2020, 6, 1)), "UNKNOWN_TRACK", ctx
    )


def test_vp_needs_leadership_experience_beyond_years_or_an_exception() -> None:
    pid = uuid4()
    became_director = date(2024, 1, 8)
    state = given(hired(pid, level="director", prior_years=15, on=became_director))
    too_soon = cmd.RecordPromotion(pid, "vp_product", date(2025, 1, 6), "Runs the org", {}, None)
    error = then_refused(state, too_soon, "REQUIREMENT_NOT_MET")
    assert error.field == "experienceException"
    assert error.ids["requirements"] == "leadership_experience"
    waived = replace(too_soon, experience_exception="Interim VP for two years elsewhere.")
    [event] = when(state, waived)
    assert isinstance(event, ev.PromotionRecorded)
    assert event.experience_exception == "Interim VP for two years elsewhere."
    later = date(2024 + LEADERSHIP_MONTHS // 12, 1, 8)
    [event] = when(state, replace(too_soon, effective_on=later))
    assert isinstance(event, ev.PromotionRecorded)
    assert event.experience_exception is None
