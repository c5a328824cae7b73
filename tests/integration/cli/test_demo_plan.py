"""The demo's plan, decided by the pure domain for many seeds: every command keeps the rules."""

from __future__ import annotations

from uuid import UUID

import pytest

from api.cli.demo_plan import DEMO_TODAY, Fix, plan_demo
from domain import commands as c
from domain import events as ev
from domain.checks import DecisionContext
from domain.ladder import default_ladder
from domain.org_chart import check_manager, manager_named, manager_on
from domain.person import PersonState, decide, decide_mentorship, fold


def _decide_all(people: int, seed: int) -> dict[UUID, list[ev.PersonEvent]]:
    """Run the plan through ``decide`` like the service would, in memory; raise if refused."""
    ladder = default_ladder()
    ctx = DecisionContext(today=DEMO_TODAY, ladders={ladder.track: ladder}, max_mentees=5)
    streams: dict[UUID, list[ev.PersonEvent]] = {}
    written: dict[int, list[ev.PersonEvent]] = {}

    def state(pid: UUID) -> PersonState:
        return fold(streams.get(pid, []))

    for index, step in enumerate(plan_demo(people, seed, ladder).steps):
        if isinstance(step, Fix):
            target = written[step.target][-1].event_id
            step = (
                c.RescindEvent(step.person_id, target, step.reason)
                if step.changes is None
                else c.CorrectEvent(step.person_id, target, step.changes, step.reason)
            )
        if isinstance(step, c.StartMentorship | c.EndMentorship):
            if isinstance(step, c.StartMentorship):
                mentor_id, mentee_id = step.mentor_id, step.mentee_id
            else:
                mentee_id = step.person_id
                mentor_id = state(mentee_id).mentor_of(step.mentorship_id) or mentee_id
            for_mentor, for_mentee = decide_mentorship(
                state(mentor_id), state(mentee_id), step, ctx
            )
            streams.setdefault(mentor_id, []).extend(for_mentor)
            streams.setdefault(mentee_id, []).extend(for_mentee)
            written[index] = [*for_mentor, *for_mentee]
        elif isinstance(step, c.PublishLadder):
            raise AssertionError("the demo publishes no ladder")
        else:
            events = decide(state(step.person_id), step, ctx)
            if (named := manager_named(step)) is not None:
                person, manager, on = named
                check_manager(person, manager, on, {m: state(m) for m in streams})
            streams.setdefault(step.person_id, []).extend(events)
            written[index] = list(events)
    return streams


def test_the_plan_is_the_same_for_the_same_seed() -> None:
    ladder = default_ladder()
    assert plan_demo(30, 4, ladder) == plan_demo(30, 4, ladder)
    assert plan_demo(30, 4, ladder) != plan_demo(30, 5, ladder)


@pytest.mark.parametrize("seed", range(1, 9))
def test_every_planned_command_is_accepted_by_the_rules(seed: int) -> None:
    streams = _decide_all(40, seed)
    assert len(streams) == 40
    states = [fold(events) for events in streams.values()]
    assert all(s.exists for s in states)
    promoted = [e for es in streams.values() for e in es if isinstance(e, ev.PromotionRecorded)]
    assert promoted
    assert all(ladder_next(e.from_level) == e.to_level for e in promoted)


def ladder_next(level: str) -> str | None:
    up = default_ladder().next_level(level)
    return up.key if up else None


@pytest.mark.parametrize(("people", "seed"), [(200, 7), (120, 3), (120, 11)])
def test_the_demo_org_chart_has_no_cycle_of_managers(people: int, seed: int) -> None:
    streams = _decide_all(people, seed)  # every manager it names passed check_manager
    states = {pid: fold(events) for pid, events in streams.items()}
    for pid in states:
        seen: set[UUID] = set()
        current: UUID | None = pid
        while current is not None:
            assert current not in seen, f"{pid} is in a cycle of managers"
            seen.add(current)
            current = manager_on(states[current], DEMO_TODAY)
