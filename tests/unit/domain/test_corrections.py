from datetime import date
from typing import Any
from uuid import UUID, uuid4

from domain import commands as cmd
from domain import events as ev

from .helpers import TODAY, departed, given, hired, promoted, then_after, then_refused, when


def correct(pid: UUID, target: UUID, **changes: Any) -> cmd.CorrectEvent:
    return cmd.CorrectEvent(pid, target, changes, "typo in the HR form")


def rescind(pid: UUID, target: UUID) -> cmd.RescindEvent:
    return cmd.RescindEvent(pid, target, "recorded by mistake")


def career() -> tuple[UUID, ev.PersonHired, ev.PromotionRecorded]:
    pid = uuid4()
    hire = hired(pid, prior_years=6)
    promotion = promoted(pid, date(2021, 3, 1), "apm", "pm")
    return pid, hire, promotion


def test_a_correction_points_at_its_target_and_keeps_the_reason() -> None:
    pid, hire, _ = career()
    [event] = when(given(hire), correct(pid, hire.event_id, name="Ada King"))
    assert isinstance(event, ev.EventCorrected)
    assert event.target_event_id == hire.event_id
    assert event.changes == {"name": "Ada King"}
    assert event.reason == "typo in the HR form"
    assert event.effective_on == TODAY


def test_a_correction_replaces_the_fields_it_names() -> None:
    pid, hire, _ = career()
    state = given(hire)
    state = then_after(state, when(state, correct(pid, hire.event_id, name="Ada King")))
    assert state.name == "Ada King"
    assert state.recorded == (hire,)  # nothing already recorded is rewritten


def test_a_correction_can_move_a_promotion_date() -> None:
    pid, hire, promotion = career()
    state = given(hire, promotion)
    state = then_after(
        state, when(state, correct(pid, promotion.event_id, effective_on="2021-09-01"))
    )
    assert state.level_since == date(2021, 9, 1)
    assert state.view_on(date(2021, 6, 1)).level == "apm"


def test_later_corrections_win_field_by_field() -> None:
    pid, hire, _ = career()
    state = given(hire)
    state = then_after(state, when(state, correct(pid, hire.event_id, name="A", email="a@x.org")))
    state = then_after(state, when(state, correct(pid, hire.event_id, name="B")))
    assert (state.name, state.email) == ("B", "a@x.org")


def test_rescinding_a_promotion_restores_the_earlier_level_from_its_date() -> None:
    pid, hire, promotion = career()
    state = given(hire, promotion)
    state = then_after(state, when(state, rescind(pid, promotion.event_id)))
    assert state.level == "apm"
    assert state.level_since == hire.effective_on
    assert state.view_on(date(2022, 1, 1)).level == "apm"


def test_a_rescinded_promotion_frees_its_date_for_another_level_change() -> None:
    pid, hire, promotion = career()
    state = given(hire, promotion)
    state = then_after(state, when(state, rescind(pid, promotion.event_id)))
    command = cmd.RecordPromotion(pid, "pm", date(2021, 3, 1), "re-recorded")
    assert when(state, command)


def test_only_events_of_the_same_person_can_be_corrected() -> None:
    pid, hire, _ = career()
    other = hired()
    then_refused(given(hire), correct(pid, other.event_id, name="X"), "EVENT_NOT_FOUND")


def test_corrections_of_an_unknown_person_are_refused() -> None:
    from domain.person import PersonState

    then_refused(PersonState(), correct(uuid4(), uuid4(), name="X"), "PERSON_NOT_FOUND")


def test_a_correction_must_name_existing_fields() -> None:
    pid, hire, _ = career()
    error = then_refused(
        given(hire), correct(pid, hire.event_id, shoe_size=44), "INVALID_CORRECTION"
    )
    assert "shoe_size" in error.message
    assert error.field == "changes"


def test_a_correction_cannot_change_ids() -> None:
    pid, hire, _ = career()
    then_refused(
        given(hire), correct(pid, hire.event_id, person_id=str(uuid4())), "INVALID_CORRECTION"
    )


def test_a_correction_must_parse() -> None:
    pid, hire, _ = career()
    then_refused(
        given(hire), correct(pid, hire.event_id, effective_on="last tuesday"), "INVALID_CORRECTION"
    )


def test_a_correction_must_keep_field_types() -> None:
    pid, hire, _ = career()
    then_refused(given(hire), correct(pid, hire.event_id, name=42), "INVALID_CORRECTION")


def test_a_correction_follows_the_input_rules() -> None:
    pid, hire, _ = career()
    then_refused(given(hire), correct(pid, hire.event_id, email="nope"), "INVALID_CORRECTION")


def test_a_correction_that_changes_nothing_is_refused() -> None:
    pid, hire, _ = career()
    then_refused(given(hire), correct(pid, hire.event_id, name=hire.name), "INVALID_CORRECTION")


def test_a_correction_cannot_make_a_promotion_skip_a_level() -> None:
    pid, hire, promotion = career()
    error = then_refused(
        given(hire, promotion),
        correct(pid, promotion.event_id, to_level="senior_pm"),
        "INVALID_CORRECTION",
    )
    assert "not the next level" in error.message


def test_a_correction_cannot_move_a_fact_before_the_hire() -> None:
    pid, hire, promotion = career()
    then_refused(
        given(hire, promotion),
        correct(pid, promotion.event_id, effective_on="2019-01-01"),
        "INVALID_CORRECTION",
    )


def test_a_correction_cannot_remove_a_needed_experience_exception() -> None:
    pid = uuid4()
    promotion = promoted(pid, date(2020, 6, 1), "apm", "pm", exception="exceptional launch")
    then_refused(
        given(hired(pid), promotion),
        correct(pid, promotion.event_id, experience_exception=None),
        "INVALID_CORRECTION",
    )


def test_a_correction_cannot_move_a_date_more_than_a_year_ahead() -> None:
    pid, hire, promotion = career()
    then_refused(
        given(hire, promotion),
        correct(pid, promotion.event_id, effective_on="2030-01-01"),
        "EFFECTIVE_DATE_TOO_FAR_AHEAD",
    )


def test_a_departed_person_can_still_be_corrected() -> None:
    pid, hire, _ = career()
    state = given(hire, departed(pid, date(2023, 1, 1)))
    assert when(state, correct(pid, hire.event_id, name="Ada King"))


def test_a_departure_can_be_rescinded() -> None:
    pid, hire, _ = career()
    leave = departed(pid, date(2023, 1, 1))
    state = given(hire, leave)
    state = then_after(state, when(state, rescind(pid, leave.event_id)))
    assert state.status == "active"


def test_a_hire_cannot_be_rescinded() -> None:
    pid, hire, _ = career()
    then_refused(given(hire), rescind(pid, hire.event_id), "INVALID_CORRECTION")


def test_an_event_is_rescinded_once() -> None:
    pid, hire, promotion = career()
    state = given(hire, promotion)
    state = then_after(state, when(state, rescind(pid, promotion.event_id)))
    then_refused(state, rescind(pid, promotion.event_id), "INVALID_CORRECTION")


def test_a_rescind_that_breaks_a_later_promotion_is_refused() -> None:
    pid, hire, promotion = career()
    later = promoted(pid, date(2024, 3, 1), "pm", "senior_pm")
    error = then_refused(
        given(hire, promotion, later), rescind(pid, promotion.event_id), "INVALID_CORRECTION"
    )
    assert "'pm'" in error.message


def test_mentorship_events_cannot_be_corrected() -> None:
    pid, hire, _ = career()
    mentorship = ev.MentorshipStarted(pid, date(2022, 1, 1), uuid4(), uuid4(), pid, (), True)
    then_refused(
        given(hire, mentorship),
        correct(pid, mentorship.event_id, goals=["x"]),
        "INVALID_CORRECTION",
    )


def test_corrections_cannot_be_corrected() -> None:
    pid, hire, _ = career()
    state = given(hire)
    [fix] = when(state, correct(pid, hire.event_id, name="Ada King"))
    state = then_after(state, [fix])
    then_refused(state, correct(pid, fix.event_id, reason="x"), "INVALID_CORRECTION")


def test_a_correction_needs_a_reason() -> None:
    pid, hire, _ = career()
    command = cmd.CorrectEvent(pid, hire.event_id, {"name": "X"}, "")
    then_refused(given(hire), command, "VALIDATION_ERROR")


def test_a_correction_cannot_blank_a_required_text() -> None:
    pid, hire, promotion = career()
    then_refused(
        given(hire, promotion),
        correct(pid, promotion.event_id, rationale=" "),
        "INVALID_CORRECTION",
    )


def test_rescinding_a_correction_withdraws_it_and_the_fact_has_its_earlier_values() -> None:
    pid, hire, promotion = career()
    state = given(hire, promotion)
    state = then_after(
        state, when(state, correct(pid, promotion.event_id, effective_on="2021-09-01"))
    )
    correction = state.corrections[-1]
    [withdrawal] = when(state, rescind(pid, correction.event_id))
    assert isinstance(withdrawal, ev.EventRescinded)
    assert withdrawal.fact_event_id == promotion.event_id
    state = then_after(state, [withdrawal])
    assert state.level_since == date(2021, 3, 1)
    assert promotion.event_id not in state.rescinded_ids


def test_rescinding_a_rescind_undoes_the_rescission() -> None:
    pid, hire, promotion = career()
    state = given(hire, promotion)
    state = then_after(state, when(state, rescind(pid, promotion.event_id)))
    assert state.level == "apm"
    [undo] = when(state, rescind(pid, state.rescinds[-1].event_id))
    state = then_after(state, [undo])
    assert state.level == "pm"
    assert promotion.event_id not in state.rescinded_ids
    # The fact can be rescinded again; the undo itself cannot be undone.
    then_refused(state, rescind(pid, undo.event_id), "INVALID_CORRECTION")
    assert when(state, rescind(pid, promotion.event_id))


def test_a_fix_is_withdrawn_once() -> None:
    pid, hire, promotion = career()
    state = given(hire, promotion)
    state = then_after(state, when(state, rescind(pid, promotion.event_id)))
    first = state.rescinds[-1]
    state = then_after(state, when(state, rescind(pid, first.event_id)))
    then_refused(state, rescind(pid, first.event_id), "INVALID_CORRECTION")


def test_undoing_a_rescission_that_would_break_the_career_is_refused() -> None:
    pid, hire, promotion = career()
    state = given(hire, promotion)
    state = then_after(state, when(state, rescind(pid, promotion.event_id)))
    # Another promotion to pm on the same day is recorded meanwhile.
    again = promoted(pid, date(2021, 3, 1), "apm", "pm")
    state = then_after(state, [again])
    then_refused(state, rescind(pid, state.rescinds[-1].event_id), "INVALID_CORRECTION")


def test_a_fix_of_a_rotation_can_be_withdrawn() -> None:
    pid, hire, _ = career()
    rid = uuid4()
    start = ev.RoleRotationStarted(
        person_id=pid,
        effective_on=date(2021, 1, 4),
        rotation_id=rid,
        host_team="Growth",
        development_area="role_rotation",
        planned_end_on=date(2021, 3, 31),
    )
    state = given(hire, start)
    state = then_after(
        state, when(state, correct(pid, start.event_id, planned_end_on="2021-06-30"))
    )
    assert state.rotations[0].planned_end_on == date(2021, 6, 30)
    state = then_after(state, when(state, rescind(pid, state.corrections[-1].event_id)))
    assert state.rotations[0].planned_end_on == date(2021, 3, 31)
    state = then_after(state, when(state, rescind(pid, start.event_id)))
    assert state.rotations == ()
    state = then_after(state, when(state, rescind(pid, state.rescinds[-1].event_id)))
    assert [r.rotation_id for r in state.rotations] == [rid]
