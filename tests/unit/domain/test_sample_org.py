"""The sample org (``domain.sample_org``), decided by the domain for many seeds: the same
seed gives the same history, every planned command keeps the rules, the org chart has no
loop; and the simulator refuses what the service refuses."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest

from domain import commands as c
from domain import events as ev
from domain.ladder import default_ladder
from domain.org_chart import manager_on
from domain.sample_org import DEMO_TODAY, plan_org
from domain.simulation import Simulator
from domain.state import fold


def streams_of(sim: Simulator) -> dict[UUID, list[ev.PersonEvent]]:
    streams: dict[UUID, list[ev.PersonEvent]] = {}
    for e in sim.events:
        streams.setdefault(e.person_id, []).append(e)
    return streams


def test_the_same_seed_gives_the_same_history_ids_included() -> None:
    first, again = plan_org(30, 4), plan_org(30, 4)
    assert first.groups == again.groups
    assert [e.event_id for e in first.events] == [e.event_id for e in again.events]
    assert first.groups != plan_org(30, 5).groups


@pytest.mark.parametrize("seed", range(1, 9))
def test_every_planned_command_is_accepted_by_the_rules(seed: int) -> None:
    sim = plan_org(40, seed)
    assert sim.refused == []
    streams = streams_of(sim)
    assert len(streams) == 40
    assert all(fold(events).exists for events in streams.values())
    promoted = [e for e in sim.events if isinstance(e, ev.PromotionRecorded)]
    assert promoted
    ladder = default_ladder()
    for e in promoted:
        upper = ladder.next_level(e.from_level)
        assert upper is not None
        assert upper.key == e.to_level


def test_the_org_has_every_kind_of_career_fact() -> None:
    kinds = {type(e).__name__ for e in plan_org(40, 3).events}
    assert {
        "PersonHired",
        "PromotionRecorded",
        "MentorshipStarted",
        "MentorshipEnded",
        "RoleRotationStarted",
        "RoleRotationEnded",
        "LeadershipTrainingCompleted",
        "PersonDeparted",
        "PersonRehired",
        "EventCorrected",
        "EventRescinded",
    } <= kinds


@pytest.mark.parametrize(("people", "seed"), [(200, 7), (120, 3), (120, 11)])
def test_the_org_chart_has_no_cycle_of_managers(people: int, seed: int) -> None:
    sim = plan_org(people, seed)
    assert sim.refused == []
    states = {pid: fold(events) for pid, events in streams_of(sim).items()}
    for pid in states:
        seen: set[UUID] = set()
        current: UUID | None = pid
        while current is not None:
            assert current not in seen, f"{pid} is in a cycle of managers"
            seen.add(current)
            current = manager_on(states[current], DEMO_TODAY)


def test_the_simulator_refuses_an_email_someone_else_has() -> None:
    sim = Simulator()
    sim.hire(date(2020, 1, 6), 1, 0.0, None)
    again = c.HirePerson(
        person_id=uuid4(),
        name="Someone Else",
        email="PERSON0@example.com",
        track=sim.ladder.track,
        level="apm",
        hired_on=date(2020, 2, 3),
        prior_years=0.0,
    )
    assert sim.run(again) == []
    assert sim.refused == ["HirePerson: EMAIL_ALREADY_USED"]


def test_the_simulator_refuses_a_manager_who_would_close_a_loop() -> None:
    sim = Simulator()
    boss = sim.hire(date(2020, 1, 6), 4, 6.0, None)
    report = sim.hire(date(2020, 1, 7), 1, 0.0, 0)
    assert sim.run(c.ChangeManager(boss, report, date(2020, 3, 2))) == []
    assert sim.refused == ["ChangeManager: MANAGER_CYCLE"]


def test_an_address_someone_else_has_is_not_given_to_the_org() -> None:
    hire = next(e for e in plan_org(20, 2).events if isinstance(e, ev.PersonHired))
    again = plan_org(20, 2, taken={hire.email: uuid4()})
    assert again.refused == ["HirePerson: EMAIL_ALREADY_USED"]
    assert hire.person_id not in {e.person_id for e in again.events}
