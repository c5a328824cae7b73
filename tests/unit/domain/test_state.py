from datetime import date
from uuid import uuid4

from domain import events as ev
from domain.person import PersonState, evolve, fold, state_on

from .helpers import departed, given, hired, promoted


def test_evolve_ignores_events_of_another_person() -> None:
    pid = uuid4()
    state = given(hired(pid))
    assert evolve(state, departed(uuid4(), date(2023, 1, 1))) is state


def test_evolve_ignores_things_that_are_not_person_events() -> None:
    state = given(hired())
    assert evolve(state, ev.LadderPublished("product", 2, {}, date(2024, 1, 1))) is state
    assert evolve(state, "garbage") is state


def test_a_fact_before_the_hire_is_ignored() -> None:
    pid = uuid4()
    state = given(hired(pid), promoted(pid, date(2019, 1, 1), "apm", "pm"))
    assert state.level == "apm"


def test_a_second_hire_is_ignored() -> None:
    pid = uuid4()
    state = given(hired(pid), hired(pid, level="vp_product", on=date(2021, 1, 1)))
    assert state.level == "apm"


def test_a_correction_that_does_not_fit_is_ignored() -> None:
    pid = uuid4()
    hire = hired(pid)
    broken = ev.EventCorrected(pid, date(2024, 1, 1), hire.event_id, {"effective_on": 5}, "x")
    unknown = ev.EventCorrected(pid, date(2024, 1, 1), uuid4(), {"name": "x"}, "x")
    assert given(hire, broken, unknown).career == given(hire).career


def test_fold_and_evolve_agree() -> None:
    pid = uuid4()
    events = [hired(pid, prior_years=3), promoted(pid, date(2021, 1, 1), "apm", "pm")]
    stepped = PersonState()
    for event in events:
        stepped = evolve(stepped, event)
    assert stepped == fold(events)
    assert stepped.career == fold(events).career


def test_state_on_views_the_career_as_effective_on_a_date() -> None:
    pid = uuid4()
    events = [
        hired(pid, on=date(2020, 1, 1)),
        promoted(pid, date(2021, 1, 1), "apm", "pm"),
        departed(pid, date(2023, 1, 1)),
    ]
    assert state_on(events, date(2019, 12, 31)).exists is False
    assert state_on(events, date(2020, 6, 1)).level == "apm"
    assert state_on(events, date(2022, 1, 1)).level == "pm"
    assert state_on(events, date(2022, 1, 1)).status == "active"
    assert state_on(events, date(2023, 1, 1)).status == "departed"
    assert state_on(events, None).status == "departed"


def test_facts_are_ordered_by_effective_date_then_recording_order() -> None:
    pid = uuid4()
    # Recorded out of order (by an import): the fold still reads them by date.
    state = given(
        hired(pid, on=date(2020, 1, 1)),
        promoted(pid, date(2022, 1, 1), "pm", "senior_pm"),
        promoted(pid, date(2021, 1, 1), "apm", "pm"),
    )
    assert state.level == "senior_pm"
    assert [change.level for change in state.career.history] == ["apm", "pm", "senior_pm"]


def test_the_stream_version_counts_every_event() -> None:
    pid = uuid4()
    state = given(
        hired(pid), ev.MentorshipStarted(pid, date(2021, 1, 1), uuid4(), pid, uuid4(), (), False)
    )
    assert state.version == 2


def test_decide_refuses_a_command_it_does_not_know() -> None:
    import pytest

    from domain import commands as cmd
    from domain.ladder import default_ladder
    from domain.person import decide

    from .helpers import CTX

    with pytest.raises(TypeError):
        decide(given(hired()), cmd.PublishLadder(default_ladder()), CTX)  # type: ignore[arg-type]
