from datetime import date
from uuid import uuid4

from domain import commands as cmd
from domain import events as ev

from .helpers import departed, given, hired, promote, then_after, then_refused, when


def depart(pid: object, on: date = date(2023, 1, 31)) -> cmd.RecordDeparture:
    return cmd.RecordDeparture(pid, on, "moved abroad")  # type: ignore[arg-type]


def rehire(pid: object, on: date = date(2024, 3, 1), level: str = "pm") -> cmd.RehirePerson:
    return cmd.RehirePerson(pid, on, "product", level, None)  # type: ignore[arg-type]


def test_a_departure_makes_the_person_departed() -> None:
    pid = uuid4()
    state = given(hired(pid))
    state = then_after(state, when(state, depart(pid)))
    assert state.status == "departed"
    assert state.periods[-1].end == date(2023, 1, 31)


def test_a_departed_person_cannot_be_promoted() -> None:
    pid = uuid4()
    state = given(hired(pid, prior_years=5), departed(pid, date(2030, 1, 1)))
    error = then_refused(state, promote(pid, "pm", date(2023, 6, 1)), "PERSON_DEPARTED")
    assert error.ids == {"personId": str(pid)}


def test_a_departed_person_cannot_depart_again() -> None:
    pid = uuid4()
    state = given(hired(pid), departed(pid, date(2023, 1, 1)))
    then_refused(state, depart(pid, date(2022, 6, 1)), "PERSON_DEPARTED")


def test_a_departed_person_cannot_change_manager() -> None:
    pid = uuid4()
    state = given(hired(pid), departed(pid, date(2023, 1, 1)))
    then_refused(state, cmd.ChangeManager(pid, uuid4(), date(2022, 6, 1)), "PERSON_DEPARTED")


def test_a_departure_before_the_hire_is_refused() -> None:
    pid = uuid4()
    then_refused(given(hired(pid)), depart(pid, date(2019, 1, 1)), "EFFECTIVE_DATE_BEFORE_HIRE")


def test_a_departure_before_a_later_fact_is_refused() -> None:
    pid = uuid4()
    state = given(
        hired(pid, prior_years=5),
        ev.PromotionRecorded(pid, date(2024, 1, 1), "product", "apm", "pm", 1, "r", {}, None),
    )
    then_refused(state, depart(pid, date(2023, 1, 1)), "EFFECTIVE_DATE_OUT_OF_ORDER")


def test_a_departure_ends_a_running_rotation_the_same_day() -> None:
    pid, rid = uuid4(), uuid4()
    state = given(
        hired(pid),
        ev.RoleRotationStarted(pid, date(2022, 1, 1), rid, "Growth", "analytics", date(2022, 6, 1)),
    )
    ended, gone = when(state, depart(pid, date(2022, 3, 1)))
    assert isinstance(ended, ev.RoleRotationEnded)
    assert (ended.rotation_id, ended.effective_on) == (rid, date(2022, 3, 1))
    assert isinstance(gone, ev.PersonDeparted)
    after = then_after(state, [ended, gone])
    assert after.rotations[0].ended_on == date(2022, 3, 1)


def test_a_person_with_active_mentorships_cannot_depart() -> None:
    pid, other, mid = uuid4(), uuid4(), uuid4()
    state = given(
        hired(pid, level="senior_pm"),
        ev.MentorshipStarted(pid, date(2021, 1, 1), mid, pid, other, ("grow",), False),
    )
    error = then_refused(state, depart(pid), "MENTORSHIPS_STILL_ACTIVE")
    assert error.ids["mentorshipIds"] == str(mid)


def test_a_departed_person_can_be_rehired() -> None:
    pid = uuid4()
    state = given(hired(pid), departed(pid, date(2023, 1, 1)))
    [event] = when(state, rehire(pid))
    assert isinstance(event, ev.PersonRehired)
    after = then_after(state, [event])
    assert (after.status, after.level, after.level_since) == ("active", "pm", date(2024, 3, 1))
    assert len(after.periods) == 2


def test_an_active_person_cannot_be_rehired() -> None:
    pid = uuid4()
    then_refused(given(hired(pid)), rehire(pid), "PERSON_NOT_DEPARTED")


def test_a_rehire_must_follow_the_departure() -> None:
    pid = uuid4()
    state = given(hired(pid), departed(pid, date(2023, 1, 1)))
    then_refused(state, rehire(pid, date(2023, 1, 1)), "EFFECTIVE_DATE_OUT_OF_ORDER")


def test_a_rehire_at_an_unknown_level_is_refused() -> None:
    pid = uuid4()
    state = given(hired(pid), departed(pid, date(2023, 1, 1)))
    then_refused(state, rehire(pid, level="boss"), "UNKNOWN_LEVEL")


def test_experience_leaves_out_the_time_away() -> None:
    pid = uuid4()
    state = given(
        hired(pid, on=date(2020, 1, 1), prior_years=1.0),
        departed(pid, date(2021, 1, 1)),
        ev.PersonRehired(pid, date(2023, 1, 1), "product", "apm", None, 1),
    )
    years = state.years_of_experience(date(2024, 1, 1))
    assert 2.99 < years < 3.01  # 1 prior + 1 + 1, not the two years away


def test_a_manager_change_is_recorded() -> None:
    pid, manager = uuid4(), uuid4()
    state = given(hired(pid))
    [event] = when(state, cmd.ChangeManager(pid, manager, date(2022, 1, 1)))
    assert then_after(state, [event]).manager_id == manager


def test_changing_to_the_same_manager_is_refused() -> None:
    pid = uuid4()
    then_refused(
        given(hired(pid)), cmd.ChangeManager(pid, None, date(2022, 1, 1)), "VALIDATION_ERROR"
    )


def test_leadership_training_is_recorded_against_a_development_area() -> None:
    pid = uuid4()
    state = given(hired(pid))
    [event] = when(state, cmd.RecordTraining(pid, "First-time managers", date(2022, 1, 1)))
    assert isinstance(event, ev.LeadershipTrainingCompleted)
    assert event.development_area == "leadership_training"
    assert then_after(state, [event]).trainings[0].program == "First-time managers"


def test_training_in_an_unknown_development_area_is_refused() -> None:
    pid = uuid4()
    command = cmd.RecordTraining(pid, "Juggling", date(2022, 1, 1), "juggling")
    error = then_refused(given(hired(pid)), command, "VALIDATION_ERROR")
    assert error.field == "developmentArea"
