from datetime import date
from uuid import uuid4

import pytest

from domain import commands as cmd
from domain import events as ev
from domain.person import PersonState

from .helpers import CTX, TODAY, given, hired, then_refused, when


def hire(**kw: object) -> cmd.HirePerson:
    fields: dict[str, object] = {
        "person_id": uuid4(),
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "track": "product",
        "level": "apm",
        "hired_on": date(2025, 9, 1),
        "prior_years": 1.5,
        "manager_id": None,
    }
    fields.update(kw)
    return cmd.HirePerson(**fields)  # type: ignore[arg-type]


def test_hiring_records_the_hire_with_the_ladder_version() -> None:
    command = hire()
    [event] = when(PersonState(), command)
    assert isinstance(event, ev.PersonHired)
    assert event.person_id == command.person_id
    assert event.effective_on == date(2025, 9, 1)
    assert (event.track, event.level, event.prior_years) == ("product", "apm", 1.5)
    assert event.ladder_version == CTX.ladders["product"].version


def test_a_hired_person_is_active_at_their_level() -> None:
    command = hire(level="pm", prior_years=2.0)
    state = given(*when(PersonState(), command))
    assert state.exists
    assert state.status == "active"
    assert state.level == "pm"
    assert state.level_since == command.hired_on
    assert state.hired_on == command.hired_on


def test_hiring_an_existing_person_is_refused() -> None:
    first = hired()
    then_refused(given(first), hire(person_id=first.person_id), "PERSON_ALREADY_EXISTS")


def test_hiring_on_an_unknown_track_is_refused() -> None:
    then_refused(PersonState(), hire(track="sales"), "UNKNOWN_TRACK")


def test_hiring_at_a_level_not_on_the_ladder_is_refused() -> None:
    error = then_refused(PersonState(), hire(level="intern"), "UNKNOWN_LEVEL")
    assert error.field == "level"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"prior_years": -1}, "priorYears"),
        ({"prior_years": float("nan")}, "priorYears"),
    ],
)
def test_hiring_with_invalid_input_is_refused(changes: dict[str, object], field: str) -> None:
    error = then_refused(PersonState(), hire(**changes), "VALIDATION_ERROR")
    assert error.field == field


def test_a_person_cannot_be_their_own_manager() -> None:
    pid = uuid4()
    then_refused(PersonState(), hire(person_id=pid, manager_id=pid), "VALIDATION_ERROR")


def test_hiring_more_than_a_year_ahead_is_refused() -> None:
    error = then_refused(
        PersonState(), hire(hired_on=date(TODAY.year + 1, 2, 1)), "EFFECTIVE_DATE_TOO_FAR_AHEAD"
    )
    assert error.field == "hiredOn"


def test_hiring_exactly_a_year_ahead_is_allowed() -> None:
    [event] = when(PersonState(), hire(hired_on=date(TODAY.year + 1, TODAY.month, TODAY.day)))
    assert isinstance(event, ev.PersonHired)


def test_hiring_above_what_the_experience_allows_needs_an_exception() -> None:
    error = then_refused(PersonState(), hire(level="senior_pm"), "INSUFFICIENT_EXPERIENCE")
    assert error.field == "experienceException"
    [event] = when(PersonState(), hire(level="senior_pm", experience_exception="Ex-founder."))
    assert isinstance(event, ev.PersonHired)
    assert event.experience_exception == "Ex-founder."


def test_an_exception_is_not_recorded_when_the_experience_suffices() -> None:
    [event] = when(PersonState(), hire(level="pm", prior_years=3.0, experience_exception="x"))
    assert isinstance(event, ev.PersonHired)
    assert event.experience_exception is None
