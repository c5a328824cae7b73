"""Property tests: whatever commands arrive, in whatever order, the invariants hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import commands as cmd
from domain import events as ev
from domain.errors import LadderError
from domain.person import (
    DecisionContext,
    PersonState,
    decide,
    decide_mentorship,
    derive_career,
    evolve,
    fold,
)

from .helpers import CTX

PEOPLE = [UUID(int=i + 1) for i in range(4)]
EPOCH = date(2018, 1, 1)
WORLD_CTX = DecisionContext(today=CTX.today, ladders=CTX.ladders, max_mentees=1)
TRACKS = sorted(WORLD_CTX.ladders)

person = st.integers(0, len(PEOPLE) - 1)
day = st.integers(0, 3400)
level = st.integers(0, 5)
slot = st.integers(0, 3)

OPS = st.one_of(
    st.tuples(st.just("hire"), person, level, day, st.sampled_from([0.0, 1.5, 4.0, 11.0])),
    st.tuples(st.just("promote"), person, level, day, st.booleans()),
    st.tuples(st.just("demote"), person, level, day),
    st.tuples(st.just("lateral"), person, st.integers(0, 1), level, day),
    st.tuples(st.just("start_rotation"), person, slot, day, st.integers(0, 200)),
    st.tuples(st.just("end_rotation"), person, slot, day),
    st.tuples(st.just("train"), person, day),
    st.tuples(st.just("depart"), person, day),
    st.tuples(st.just("rehire"), person, level, day),
    st.tuples(st.just("manager"), person, person, day),
    st.tuples(st.just("start_mentorship"), person, person, slot, day, st.booleans()),
    st.tuples(st.just("end_mentorship"), person, slot, day),
    st.tuples(
        st.just("correct"),
        person,
        st.integers(0, 20),
        st.sampled_from(["effective_on", "to_level", "name", "planned_end_on", "level"]),
        st.integers(-400, 400),
    ),
    st.tuples(st.just("rescind"), person, st.integers(0, 20)),
)


def on(days: int) -> date:
    return EPOCH + timedelta(days=days)


def staffed() -> dict[UUID, list[ev.PersonEvent]]:
    """Four people hired early at different levels, so most commands have someone to act on."""
    streams: dict[UUID, list[ev.PersonEvent]] = {}
    for index, (pid, key, years) in enumerate(
        zip(PEOPLE, ["director", "senior_pm", "pm", "apm"], [12.0, 6.0, 2.5, 0.0], strict=True)
    ):
        hire = cmd.HirePerson(pid, "Pat", "pat@example.com", "product", key, on(index * 7), years)
        streams[pid] = list(decide(PersonState(), hire, WORLD_CTX))
    return streams


@dataclass
class World:
    streams: dict[UUID, list[ev.PersonEvent]] = field(default_factory=staffed)

    def state(self, pid: UUID) -> PersonState:
        return fold(self.streams[pid])

    def level_key(self, pid: UUID, index: int) -> str:
        state = self.state(pid)
        ladder = WORLD_CTX.ladders.get(state.track) or WORLD_CTX.ladders["product"]
        return ladder.levels[index % len(ladder.levels)].key

    def command(self, op: tuple[Any, ...]) -> cmd.Command | None:
        kind, p = op[0], PEOPLE[op[1]]
        match op:
            case ("hire", _, lv, d, years):
                key = WORLD_CTX.ladders["product"].levels[lv].key
                return cmd.HirePerson(p, "Pat", "pat@example.com", "product", key, on(d), years)
            case ("promote", _, lv, d, exception):
                reason = "stretch" if exception else None
                state = self.state(p)
                ladder = WORLD_CTX.ladders.get(state.track)
                up = ladder.next_level(state.level) if ladder and lv < 4 else None
                key = up.key if up else self.level_key(p, lv)
                return cmd.RecordPromotion(p, key, on(d), "did well", {}, reason)
            case ("demote", _, lv, d):
                return cmd.RecordDemotion(p, self.level_key(p, lv), on(d), "restructuring")
            case ("lateral", _, t, lv, d):
                track = TRACKS[t]
                key = WORLD_CTX.ladders[track].levels[lv % len(WORLD_CTX.ladders[track].levels)].key
                return cmd.RecordLateralMove(p, track, key, on(d), "change")
            case ("start_rotation", _, s, d, length):
                return cmd.StartRotation(
                    UUID(int=1000 * op[1] + s), p, "Ops", "mentorship", on(d), on(d + length)
                )
            case ("end_rotation", _, s, d):
                running = [r.rotation_id for r in self.state(p).rotations if r.active]
                rotation_id = running[0] if running and s < 3 else UUID(int=1000 * op[1] + s)
                return cmd.EndRotation(rotation_id, p, on(d), "done")
            case ("train", _, d):
                return cmd.RecordTraining(p, "Leading", on(d), "leadership_training")
            case ("depart", _, d):
                return cmd.RecordDeparture(p, on(d), "left")
            case ("rehire", _, lv, d):
                key = WORLD_CTX.ladders["product"].levels[lv].key
                return cmd.RehirePerson(p, on(d), "product", key)
            case ("manager", _, m, d):
                return cmd.ChangeManager(p, PEOPLE[m], on(d))
            case ("start_mentorship", _, mentee, s, d, reverse):
                return cmd.StartMentorship(
                    UUID(int=100_000 + 100 * op[1] + 10 * mentee + s),
                    p,
                    PEOPLE[mentee],
                    on(d),
                    ("grow",),
                    reverse,
                )
            case ("end_mentorship", _, s, d):
                mentors = list(self.state(p).mentorships)
                if not mentors:
                    return None
                return cmd.EndMentorship(mentors[s % len(mentors)], p, on(d), "done")
            case ("correct", _, index, name, delta):
                facts = list(self.state(p).recorded)
                if not facts:
                    return None
                target = facts[index % len(facts)]
                value: object = {
                    "effective_on": (target.effective_on + timedelta(days=delta)).isoformat(),
                    "planned_end_on": (target.effective_on + timedelta(days=delta)).isoformat(),
                    "to_level": self.level_key(p, delta),
                    "level": self.level_key(p, delta),
                    "name": f"Pat {delta}",
                }[name]
                return cmd.CorrectEvent(p, target.event_id, {name: value}, "fix")
            case ("rescind", _, index):
                facts = list(self.state(p).recorded)
                if not facts:
                    return None
                return cmd.RescindEvent(p, facts[index % len(facts)].event_id, "void")
        raise AssertionError(kind)

    def apply(self, op: tuple[Any, ...]) -> None:
        command = self.command(op)
        if command is None:
            return
        try:
            if isinstance(command, cmd.StartMentorship | cmd.EndMentorship):
                mentee_id = (
                    command.mentee_id
                    if isinstance(command, cmd.StartMentorship)
                    else command.person_id
                )
                mentor_id = (
                    command.mentor_id
                    if isinstance(command, cmd.StartMentorship)
                    else self.state(mentee_id).mentor_of(command.mentorship_id) or mentee_id
                )
                mine, theirs = decide_mentorship(
                    self.state(mentor_id), self.state(mentee_id), command, WORLD_CTX
                )
                self.streams[mentor_id] += mine
                self.streams[mentee_id] += theirs
            elif not isinstance(command, cmd.PublishLadder):
                self.streams[command.person_id] += decide(
                    self.state(command.person_id), command, WORLD_CTX
                )
        except LadderError:
            pass


def check_invariants(world: World) -> None:
    for pid in PEOPLE:
        state = world.state(pid)
        career = state.career
        if career.exists:
            ladder = WORLD_CTX.ladders[career.track]
            assert ladder.has_level(career.level)
            for change in career.history:
                assert WORLD_CTX.ladders[change.track].has_level(change.level)
        rotations = career.rotations
        for i, a in enumerate(rotations):
            assert a.ended_on is None or a.ended_on >= a.started_on
            for b in rotations[i + 1 :]:
                assert not a.overlaps(b.started_on, b.last_day), (a, b)
        # Several may be running only if backdated: each was planned to end before the
        # current one started.
        current = career.current_rotation
        for r in rotations:
            if r.active and current is not None and r is not current:
                assert r.planned_end_on < current.started_on, (r, current)
        assert len(state.mentees) <= WORLD_CTX.max_mentees
        for m in state.mentorships.values():
            other = m.mentee_id if m.mentor_id == pid else m.mentor_id
            assert world.state(other).mentorships[m.mentorship_id] == m
            assert m.mentor_id != m.mentee_id
        problems: list[str] = []
        derive_career(state.effective_pairs(), ladders=WORLD_CTX.ladders, problems=problems)
        assert problems == []


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, max_size=40))
def test_any_sequence_of_commands_keeps_the_invariants(ops: list[tuple[Any, ...]]) -> None:
    world = World()
    for op in ops:
        world.apply(op)
        check_invariants(world)


@settings(max_examples=100, deadline=None)
@given(st.lists(OPS, max_size=40))
def test_folding_the_same_events_twice_gives_the_same_state(ops: list[tuple[Any, ...]]) -> None:
    world = World()
    for op in ops:
        world.apply(op)
    for events in world.streams.values():
        once, twice = fold(events), fold(events)
        assert once == twice
        assert once.career == twice.career
        stepped = PersonState()
        for event in events:
            stepped = evolve(stepped, event)
        assert stepped == once
        assert stepped.career == once.career


@settings(max_examples=200, deadline=None)
@given(st.lists(OPS, max_size=30), st.integers(0, 3400))
def test_the_career_on_a_date_only_uses_facts_effective_by_then(
    ops: list[tuple[Any, ...]], days: int
) -> None:
    world = World()
    for op in ops:
        world.apply(op)
    as_of = on(days)
    for events in world.streams.values():
        view = fold(events).view_on(as_of)
        assert all(change.effective_on <= as_of for change in view.history)
        assert all(r.started_on <= as_of for r in view.rotations)
