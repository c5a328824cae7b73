from datetime import date
from uuid import UUID, uuid4

from domain import commands as cmd
from domain import events as ev

from .helpers import given, hired, promote, then_after, then_refused, when


def started(pid: UUID, rid: UUID, start: date, planned_end: date) -> ev.RoleRotationStarted:
    return ev.RoleRotationStarted(pid, start, rid, "Growth", "role_rotation", planned_end)


def ended(pid: UUID, rid: UUID, on: date) -> ev.RoleRotationEnded:
    return ev.RoleRotationEnded(pid, on, rid, "learned a lot")


def start(pid: UUID, on: date, planned_end: date, rid: UUID | None = None) -> cmd.StartRotation:
    return cmd.StartRotation(rid or uuid4(), pid, "Payments", "analytics", on, planned_end)


def test_a_rotation_starts_with_a_host_team_and_a_planned_end() -> None:
    pid = uuid4()
    command = start(pid, date(2022, 1, 1), date(2022, 6, 30))
    [event] = when(given(hired(pid)), command)
    assert isinstance(event, ev.RoleRotationStarted)
    assert (event.host_team, event.development_area) == ("Payments", "analytics")
    assert event.planned_end_on == date(2022, 6, 30)


def test_a_person_on_rotation_keeps_their_level() -> None:
    pid, rid = uuid4(), uuid4()
    state = given(hired(pid, level="pm"), started(pid, rid, date(2022, 1, 1), date(2022, 6, 30)))
    assert state.level == "pm"
    assert state.rotations[0].active


def test_a_person_on_rotation_can_still_be_promoted() -> None:
    pid, rid = uuid4(), uuid4()
    state = given(hired(pid, prior_years=3), started(pid, rid, date(2022, 1, 1), date(2022, 6, 30)))
    assert when(state, promote(pid, "pm", date(2022, 2, 1)))


def test_rotations_cannot_overlap() -> None:
    pid, rid = uuid4(), uuid4()
    state = given(
        hired(pid),
        started(pid, rid, date(2022, 1, 1), date(2022, 6, 30)),
        ended(pid, rid, date(2022, 6, 30)),
    )
    error = then_refused(state, start(pid, date(2022, 6, 30), date(2022, 9, 1)), "ROTATION_OVERLAP")
    assert error.ids["otherRotationId"] == str(rid)


def test_a_rotation_may_start_after_the_previous_one_ended() -> None:
    pid, rid = uuid4(), uuid4()
    state = given(
        hired(pid),
        started(pid, rid, date(2022, 1, 1), date(2022, 6, 30)),
        ended(pid, rid, date(2022, 6, 30)),
    )
    assert when(state, start(pid, date(2022, 7, 1), date(2022, 9, 1)))


def test_a_rotation_cannot_start_while_another_is_running() -> None:
    pid, rid = uuid4(), uuid4()
    state = given(hired(pid), started(pid, rid, date(2022, 1, 1), date(2022, 3, 1)))
    then_refused(state, start(pid, date(2022, 5, 1), date(2022, 9, 1)), "ROTATION_OVERLAP")


def test_a_planned_end_before_the_start_is_refused() -> None:
    pid = uuid4()
    error = then_refused(
        given(hired(pid)), start(pid, date(2022, 5, 1), date(2022, 4, 1)), "END_BEFORE_START"
    )
    assert error.field == "plannedEndOn"


def test_a_rotation_ends_once() -> None:
    pid, rid = uuid4(), uuid4()
    state = given(
        hired(pid),
        started(pid, rid, date(2022, 1, 1), date(2022, 6, 30)),
        ended(pid, rid, date(2022, 6, 30)),
    )
    command = cmd.EndRotation(rid, pid, date(2022, 7, 1), "again")
    then_refused(state, command, "ROTATION_ALREADY_ENDED")


def test_a_rotation_cannot_end_before_it_started() -> None:
    pid, rid = uuid4(), uuid4()
    state = given(hired(pid), started(pid, rid, date(2022, 1, 1), date(2022, 6, 30)))
    then_refused(state, cmd.EndRotation(rid, pid, date(2021, 12, 31), "x"), "END_BEFORE_START")


def test_ending_an_unknown_rotation_is_refused() -> None:
    pid = uuid4()
    then_refused(
        given(hired(pid)),
        cmd.EndRotation(uuid4(), pid, date(2022, 1, 1), "x"),
        "ROTATION_NOT_FOUND",
    )


def test_a_rotation_ends_with_an_outcome() -> None:
    pid, rid = uuid4(), uuid4()
    state = given(hired(pid), started(pid, rid, date(2022, 1, 1), date(2022, 6, 30)))
    [event] = when(state, cmd.EndRotation(rid, pid, date(2022, 7, 15), "shipped the dashboard"))
    rotation = then_after(state, [event]).rotations[0]
    assert (rotation.ended_on, rotation.outcome) == (date(2022, 7, 15), "shipped the dashboard")


def test_ending_a_rotation_late_cannot_run_into_the_next_one() -> None:
    pid, first, second = uuid4(), uuid4(), uuid4()
    state = given(
        hired(pid),
        started(pid, second, date(2022, 9, 1), date(2022, 12, 1)),
        ended(pid, second, date(2022, 12, 1)),
        started(pid, first, date(2022, 1, 1), date(2022, 6, 30)),
    )
    then_refused(state, cmd.EndRotation(first, pid, date(2022, 9, 15), "x"), "ROTATION_OVERLAP")


def test_a_rotation_id_is_used_once() -> None:
    pid, rid = uuid4(), uuid4()
    state = given(
        hired(pid),
        started(pid, rid, date(2022, 1, 1), date(2022, 6, 30)),
        ended(pid, rid, date(2022, 6, 30)),
    )
    error = then_refused(
        state, start(pid, date(2023, 1, 1), date(2023, 2, 1), rid), "VALIDATION_ERROR"
    )
    assert error.field == "rotationId"


def test_a_rotation_in_an_unknown_development_area_is_refused() -> None:
    pid = uuid4()
    command = cmd.StartRotation(uuid4(), pid, "Ops", "knitting", date(2022, 1, 1), date(2022, 2, 1))
    then_refused(given(hired(pid)), command, "VALIDATION_ERROR")


def test_a_backdated_rotation_that_overlaps_nothing_is_accepted_while_a_later_one_runs() -> None:
    pid, running = uuid4(), uuid4()
    state = given(hired(pid), started(pid, running, date(2022, 6, 1), date(2022, 12, 31)))
    [event] = when(state, start(pid, date(2021, 3, 1), date(2021, 5, 31)))
    assert isinstance(event, ev.RoleRotationStarted)
    state = then_after(state, [event])
    current = state.career.current_rotation
    assert current is not None and current.rotation_id == running


def test_a_backdated_rotation_running_into_a_later_one_is_refused() -> None:
    pid = uuid4()
    state = given(hired(pid), started(pid, uuid4(), date(2022, 6, 1), date(2022, 12, 31)))
    then_refused(state, start(pid, date(2022, 3, 1), date(2022, 6, 1)), "ROTATION_OVERLAP")


def test_a_rotation_past_its_planned_end_and_not_ended_is_overdue() -> None:
    pid, rid = uuid4(), uuid4()
    state = given(hired(pid), started(pid, rid, date(2022, 1, 1), date(2022, 3, 31)))
    assert not state.career.rotation_overdue(date(2022, 3, 31))
    assert state.career.rotation_overdue(date(2022, 4, 1))
    state = given(hired(pid), started(pid, rid, date(2022, 1, 1), date(2022, 3, 31)))
    state = then_after(state, [ended(pid, rid, date(2022, 4, 15))])
    assert not state.career.rotation_overdue(date(2022, 5, 1))
