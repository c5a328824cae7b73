from datetime import date, timedelta
from uuid import uuid4

from domain import commands as cmd
from domain import events as ev

from .helpers import CTX, HIRED_ON, TODAY, departed, given, hired, promote, promoted, then_refused


def test_a_promotion_before_the_hire_is_refused() -> None:
    pid = uuid4()
    error = then_refused(
        given(hired(pid, prior_years=5)),
        promote(pid, "pm", HIRED_ON - timedelta(days=1)),
        "EFFECTIVE_DATE_BEFORE_HIRE",
    )
    assert error.field == "effectiveOn"


def test_a_promotion_more_than_a_year_ahead_is_refused() -> None:
    pid = uuid4()
    then_refused(
        given(hired(pid, prior_years=5)),
        promote(pid, "pm", CTX.latest_effective_on + timedelta(days=1)),
        "EFFECTIVE_DATE_TOO_FAR_AHEAD",
    )


def test_a_promotion_up_to_a_year_ahead_is_allowed() -> None:
    from domain.person import decide

    pid = uuid4()
    events = decide(
        given(hired(pid, prior_years=5)), promote(pid, "pm", CTX.latest_effective_on), CTX
    )
    assert events[0].effective_on == date(TODAY.year + 1, TODAY.month, TODAY.day)


def test_a_promotion_after_the_departure_is_refused() -> None:
    pid = uuid4()
    state = given(hired(pid, prior_years=5), departed(pid, date(2023, 1, 1)))
    error = then_refused(
        state, promote(pid, "pm", date(2023, 6, 1)), "EFFECTIVE_DATE_AFTER_DEPARTURE"
    )
    assert error.field == "effectiveOn"


def test_one_level_change_per_person_per_effective_date() -> None:
    pid = uuid4()
    state = given(hired(pid, prior_years=20), promoted(pid, date(2021, 1, 4), "apm", "pm"))
    then_refused(
        state, promote(pid, "senior_pm", date(2021, 1, 4)), "LEVEL_ALREADY_CHANGED_ON_DATE"
    )


def test_a_promotion_on_the_hire_date_is_a_second_level_change_that_day() -> None:
    pid = uuid4()
    then_refused(
        given(hired(pid, prior_years=20)),
        promote(pid, "pm", HIRED_ON),
        "LEVEL_ALREADY_CHANGED_ON_DATE",
    )


def test_a_level_change_before_the_latest_one_is_refused() -> None:
    pid = uuid4()
    state = given(hired(pid, prior_years=20), promoted(pid, date(2022, 1, 4), "apm", "pm"))
    demote = cmd.RecordDemotion(pid, "apm", date(2021, 6, 1), "restructuring")
    then_refused(state, demote, "EFFECTIVE_DATE_OUT_OF_ORDER")


def test_the_window_follows_the_rehire_date() -> None:
    pid = uuid4()
    state = given(
        hired(pid, prior_years=20),
        departed(pid, date(2021, 1, 1)),
        ev.PersonRehired(pid, date(2022, 1, 1), "product", "apm", None, 1),
    )
    then_refused(state, promote(pid, "pm", date(2021, 6, 1)), "EFFECTIVE_DATE_BEFORE_HIRE")
