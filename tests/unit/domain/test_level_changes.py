from datetime import date
from uuid import uuid4

from domain import commands as cmd
from domain import events as ev

from .helpers import given, hired, then_refused, when


def demote(pid: object, to_level: str) -> cmd.RecordDemotion:
    return cmd.RecordDemotion(pid, to_level, date(2022, 3, 1), "performance plan")  # type: ignore[arg-type]


def move(pid: object, to_track: str, to_level: str) -> cmd.RecordLateralMove:
    return cmd.RecordLateralMove(pid, to_track, to_level, date(2022, 3, 1), "wants to build")  # type: ignore[arg-type]


def test_a_demotion_goes_to_a_lower_level() -> None:
    pid = uuid4()
    [event] = when(given(hired(pid, level="senior_pm")), demote(pid, "pm"))
    assert isinstance(event, ev.DemotionRecorded)
    assert (event.from_level, event.to_level, event.reason) == (
        "senior_pm",
        "pm",
        "performance plan",
    )


def test_a_demotion_may_go_down_more_than_one_level() -> None:
    pid = uuid4()
    [event] = when(given(hired(pid, level="group_pm")), demote(pid, "apm"))
    assert isinstance(event, ev.DemotionRecorded)


def test_a_demotion_up_the_ladder_is_not_a_demotion() -> None:
    pid = uuid4()
    then_refused(given(hired(pid, level="pm")), demote(pid, "senior_pm"), "NOT_A_DEMOTION")


def test_a_demotion_needs_a_reason() -> None:
    pid = uuid4()
    command = cmd.RecordDemotion(pid, "apm", date(2022, 3, 1), " ")
    then_refused(given(hired(pid, level="pm")), command, "VALIDATION_ERROR")


def test_a_lateral_move_changes_track_and_is_not_a_promotion() -> None:
    pid = uuid4()
    [event] = when(given(hired(pid, level="pm")), move(pid, "engineering", "engineer"))
    assert isinstance(event, ev.LateralMoveRecorded)
    assert (event.from_track, event.from_level) == ("product", "pm")
    assert (event.to_track, event.to_level) == ("engineering", "engineer")
    state = given(hired(pid, level="pm"), event)
    assert (state.track, state.level) == ("engineering", "engineer")


def test_a_lateral_move_within_the_track_is_refused() -> None:
    pid = uuid4()
    error = then_refused(
        given(hired(pid, level="pm")), move(pid, "product", "apm"), "NOT_A_LATERAL_MOVE"
    )
    assert error.field == "toTrack"


def test_a_lateral_move_cannot_go_up() -> None:
    pid = uuid4()
    then_refused(
        given(hired(pid, level="pm")),
        move(pid, "engineering", "senior_engineer"),
        "NOT_A_LATERAL_MOVE",
    )


def test_a_lateral_move_to_an_unknown_track_is_refused() -> None:
    pid = uuid4()
    error = then_refused(given(hired(pid)), move(pid, "sales", "rep"), "UNKNOWN_TRACK")
    assert error.field == "toTrack"


def test_a_lateral_move_to_an_unknown_level_is_refused() -> None:
    pid = uuid4()
    error = then_refused(given(hired(pid)), move(pid, "engineering", "wizard"), "UNKNOWN_LEVEL")
    assert error.field == "toLevel"
