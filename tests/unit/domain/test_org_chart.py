"""Given the states of a manager and the chain above them -> when a command names that
manager -> then it is accepted, or refused with the rule's code on ``managerId``."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID, uuid4

import pytest

from domain import commands as cmd
from domain.errors import LadderError
from domain.org_chart import check_manager, manager_named, reports_in
from domain.state import PersonState

from .helpers import HIRED_ON, departed, given, hired

ON = date(2024, 5, 1)


def managed(person: UUID, manager: UUID | None, on: date = HIRED_ON) -> PersonState:
    return given(replace(hired(person, on=on), manager_id=manager))


def refused(person: UUID, manager: UUID, chain: dict[UUID, PersonState], code: str) -> None:
    with pytest.raises(LadderError) as caught:
        check_manager(person, manager, ON, chain)
    assert (caught.value.code, caught.value.field) == (code, "managerId")


def test_an_employed_manager_outside_the_persons_reports_is_accepted() -> None:
    boss, manager, person = uuid4(), uuid4(), uuid4()
    check_manager(person, manager, ON, {manager: managed(manager, boss), boss: managed(boss, None)})


def test_a_manager_who_does_not_exist_is_refused() -> None:
    refused(uuid4(), uuid4(), {}, "MANAGER_NOT_FOUND")


def test_a_manager_not_yet_hired_on_the_effective_date_is_refused() -> None:
    manager = uuid4()
    later = {manager: managed(manager, None, on=date(2024, 6, 1))}
    refused(uuid4(), manager, later, "MANAGER_NOT_EMPLOYED")


def test_a_manager_who_left_before_the_effective_date_is_refused() -> None:
    manager = uuid4()
    left = given(hired(manager), departed(manager, date(2024, 4, 30)))
    refused(uuid4(), manager, {manager: left}, "MANAGER_NOT_EMPLOYED")


def test_a_manager_on_their_last_day_may_still_be_named() -> None:
    manager = uuid4()
    leaving = given(hired(manager), departed(manager, ON))
    check_manager(uuid4(), manager, ON, {manager: leaving})


def test_managing_ones_own_manager_is_a_cycle() -> None:
    person, manager = uuid4(), uuid4()
    refused(person, manager, {manager: managed(manager, person)}, "MANAGER_CYCLE")


def test_managing_someone_above_oneself_indirectly_is_a_cycle() -> None:
    person, middle, manager = uuid4(), uuid4(), uuid4()
    chain = {manager: managed(manager, middle), middle: managed(middle, person)}
    refused(person, manager, chain, "MANAGER_CYCLE")


def test_an_older_loop_above_the_manager_is_not_this_commands_doing() -> None:
    person, a, b = uuid4(), uuid4(), uuid4()
    check_manager(person, a, ON, {a: managed(a, b), b: managed(b, a)})


def test_only_commands_that_set_a_manager_name_one() -> None:
    person, manager = uuid4(), uuid4()
    change = cmd.ChangeManager(person, manager, ON)
    assert manager_named(change) == (person, manager, ON)
    assert manager_named(cmd.ChangeManager(person, None, ON)) is None
    assert manager_named(cmd.RecordDeparture(person, ON, "left")) is None


def test_reports_are_listed_nearest_first_down_to_the_depth_asked() -> None:
    chart = {"a": None, "b": "a", "c": "a", "d": "b", "e": "d"}
    assert reports_in(chart, "a", 1) == ["b", "c"]
    assert reports_in(chart, "a", 2) == ["b", "c", "d"]
    assert reports_in(chart, "a") == ["b", "c", "d", "e"]
    assert reports_in(chart, "e") == []


def test_an_old_loop_in_the_chart_lists_each_person_once() -> None:
    assert reports_in({"a": "b", "b": "a"}, "a") == ["b"]
