"""Valid career histories, decided by the domain itself: the one org generator.

``Simulator`` runs commands through ``decide`` / ``decide_mentorship`` against in-memory
states, with the checks the service adds around them (a new manager's chain, a unique
email), and keeps what the rules accept (a refused command is dropped and noted), so any
sequence of commands becomes a history the real service could have written. Each accepted
command is one atomic append (``groups``).

Two things drive it:

* ``domain.sample_org.plan_org(people, seed, ladder)`` -- a realistic organisation, month by
  month over six years: ``ladder demo``, ``bench/generate.py`` and the tests;
* ``apply`` / ``simulate`` -- operations by index, which the hypothesis strategies of the
  tests draw (``tests/unit/projections/histories.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

from domain import commands as cmd
from domain import events as ev
from domain.checks import DecisionContext, email_set_by, email_unused
from domain.errors import LadderError
from domain.ladder import Ladder, default_ladder
from domain.mentoring import decide_mentorship
from domain.org_chart import MAX_CHAIN, check_manager, manager_on, manager_set_by
from domain.rules import decide
from domain.state import PersonState, evolve

BASE = date(2019, 1, 1)
TODAY = date(2025, 6, 30)


@dataclass
class Simulator:
    ladder: Ladder = field(default_factory=default_ladder)
    today: date = TODAY
    new_id: Callable[[], UUID] = uuid4
    """Where event ids (and the ids ``apply`` makes) come from: a seeded source makes the
    whole history, ids included, the same for the same seed."""
    states: dict[UUID, PersonState] = field(default_factory=dict)
    people: list[UUID] = field(default_factory=list)
    groups: list[list[ev.PersonEvent]] = field(default_factory=list)
    """Each accepted command's events: one atomic (possibly two-stream) append."""
    refused: list[str] = field(default_factory=list)
    """``"<command>: <code>"`` of every command a rule refused."""
    mentorships: list[tuple[UUID, UUID]] = field(default_factory=list)
    """(mentorship id, mentee id) of every mentorship started."""
    rotations: list[tuple[UUID, UUID]] = field(default_factory=list)
    emails: dict[str, UUID] = field(default_factory=dict)
    """Address (lower case) -> its person, as the service's uniqueness check sees it."""

    def __post_init__(self) -> None:
        self.ctx = DecisionContext(self.today, {self.ladder.track: self.ladder}, max_mentees=5)

    @property
    def events(self) -> list[ev.PersonEvent]:
        return [e for group in self.groups for e in group]

    def state(self, person_id: UUID) -> PersonState:
        return self.states.get(person_id, PersonState())

    def _keep(self, command: object, events: list[ev.PersonEvent]) -> list[ev.PersonEvent]:
        if self.new_id is not uuid4:
            events = [replace(e, event_id=self.new_id()) for e in events]
        for e in events:
            self.states[e.person_id] = evolve(self.state(e.person_id), e)
        if events:
            self.groups.append(events)
        if isinstance(command, cmd.HirePerson):
            self.emails[command.email.strip().lower()] = command.person_id
        return events

    def _refuse(self, command: object, error: LadderError) -> list[ev.PersonEvent]:
        self.refused.append(f"{type(command).__name__}: {error.code}")
        return []

    def run(self, command: cmd.PersonCommand) -> list[ev.PersonEvent]:
        """Decide ``command``; keep and return its events ([] when a rule refuses it)."""
        state = self.state(command.person_id)
        try:
            events = decide(state, command, self.ctx)
            if (address := email_set_by(state, command)) is not None:
                owner = self.emails.get(address.strip().lower())
                email_unused(command.person_id, address, set() if owner is None else {owner})
            if (named := manager_set_by(state, command)) is not None:
                person, manager, on = named
                check_manager(person, manager, on, self.chain(manager, on))
        except LadderError as exc:
            return self._refuse(command, exc)
        return self._keep(command, list(events))

    def chain(self, manager_id: UUID, on: date) -> dict[UUID, PersonState]:
        """The states of ``manager_id`` and of everyone above them on ``on``."""
        chain: dict[UUID, PersonState] = {}
        current: UUID | None = manager_id
        while current is not None and current not in chain and len(chain) < MAX_CHAIN:
            state = chain[current] = self.state(current)
            current = manager_on(state, on) if state.exists else None
        return chain

    def mentor(self, command: cmd.StartMentorship | cmd.EndMentorship) -> list[ev.PersonEvent]:
        if isinstance(command, cmd.StartMentorship):
            mentor_id, mentee_id = command.mentor_id, command.mentee_id
        else:
            mentee_id = command.person_id
            found = self.state(mentee_id).mentor_of(command.mentorship_id)
            if found is None:
                return []
            mentor_id = found
        try:
            a, b = decide_mentorship(
                self.state(mentor_id), self.state(mentee_id), command, self.ctx
            )
        except LadderError as exc:
            return self._refuse(command, exc)
        return self._keep(command, [*a, *b])

    def execute(self, command: cmd.PersonCommand) -> list[ev.PersonEvent]:
        """``run`` or ``mentor``, whichever decides ``command``."""
        if isinstance(command, cmd.StartMentorship | cmd.EndMentorship):
            return self.mentor(command)
        return self.run(command)

    # --- operations by index (what the strategies draw) ------------------------------------

    def hire(self, day: date, rank: int, prior_years: float, manager: int | None) -> UUID:
        pid = self.new_id()
        level = self.ladder.levels[min(rank, len(self.ladder.levels)) - 1]
        n = len(self.people)
        if self.run(
            cmd.HirePerson(
                person_id=pid,
                name=f"Person {n:06d}",
                email=f"person{n}@example.com",
                track=self.ladder.track,
                level=level.key,
                hired_on=day,
                prior_years=max(prior_years, float(level.min_years)),
                manager_id=self.people[manager % n] if manager is not None and n else None,
            )
        ):
            self.people.append(pid)
        return pid

    def promote(self, pid: UUID, day: date, exception: bool = False) -> None:
        career = self.state(pid).career
        upper = (
            self.ladder.next_level(career.level) if self.ladder.has_level(career.level) else None
        )
        if upper is None:
            return
        self.run(
            cmd.RecordPromotion(
                person_id=pid,
                to_level=upper.key,
                effective_on=day,
                rationale="Delivered products that met their business goals.",
                evidence={"business_impact": "Launched on time."},
                experience_exception="Exceptional launch." if exception else None,
            )
        )

    def apply(self, op: tuple[Any, ...]) -> None:
        """One drawn operation: ``(kind, person index, day offset, extra index)``."""
        kind, who, offset, extra = op
        day = BASE + timedelta(days=offset)
        if kind == "hire" or not self.people:
            self.hire(day, 1 + extra % 4, float(extra % 7), extra if extra % 3 else None)
            return
        pid = self.people[who % len(self.people)]
        other = self.people[extra % len(self.people)]
        state = self.state(pid)
        if kind == "promote":
            self.promote(pid, day, exception=extra % 2 == 0)
        elif kind == "train":
            self.run(cmd.RecordTraining(person_id=pid, program="Lead", effective_on=day))
        elif kind == "rotate":
            rid = self.new_id()
            end = day + timedelta(days=30 + extra % 120)
            started = cmd.StartRotation(
                rotation_id=rid,
                person_id=pid,
                host_team="Growth",
                development_area="role_rotation",
                effective_on=day,
                planned_end_on=end,
            )
            if self.run(started):
                self.rotations.append((rid, pid))
        elif kind == "end_rotation" and self.rotations:
            rid, owner = self.rotations[extra % len(self.rotations)]
            self.run(
                cmd.EndRotation(
                    rotation_id=rid, person_id=owner, effective_on=day, outcome="Shipped."
                )
            )
        elif kind == "mentor":
            mid = self.new_id()
            if self.mentor(
                cmd.StartMentorship(
                    mentorship_id=mid,
                    mentor_id=other,
                    mentee_id=pid,
                    effective_on=day,
                    goals=("grow",),
                    allow_reverse=extra % 2 == 0,
                )
            ):
                self.mentorships.append((mid, pid))
        elif kind == "end_mentorship" and self.mentorships:
            mid, mentee = self.mentorships[extra % len(self.mentorships)]
            self.mentor(
                cmd.EndMentorship(
                    mentorship_id=mid, person_id=mentee, effective_on=day, outcome="Goals met."
                )
            )
        elif kind == "depart":
            self.run(cmd.RecordDeparture(person_id=pid, effective_on=day, reason="Moved abroad."))
        elif kind == "rehire":
            self.run(
                cmd.RehirePerson(
                    person_id=pid,
                    effective_on=day,
                    track=self.ladder.track,
                    level=state.level or self.ladder.first_level.key,
                    # Recorded only when the experience on the day falls short of the level.
                    experience_exception="Rehired at their former level.",
                )
            )
        elif kind == "manager":
            self.run(
                cmd.ChangeManager(
                    person_id=pid, manager_id=other if other != pid else None, effective_on=day
                )
            )
        elif kind in ("correct", "rescind") and state.recorded:
            target = state.recorded[extra % len(state.recorded)]
            if kind == "rescind":
                self.run(
                    cmd.RescindEvent(
                        person_id=pid, target_event_id=target.event_id, reason="Mistake."
                    )
                )
            else:
                moved = {"effective_on": (target.effective_on + timedelta(days=3)).isoformat()}
                self.run(
                    cmd.CorrectEvent(
                        person_id=pid,
                        target_event_id=target.event_id,
                        changes=moved,
                        reason="Wrong date.",
                    )
                )


KINDS = (
    "hire",
    "promote",
    "train",
    "rotate",
    "end_rotation",
    "mentor",
    "end_mentorship",
    "depart",
    "rehire",
    "manager",
    "correct",
    "rescind",
)


def simulate(ops: list[tuple[Any, ...]]) -> Simulator:
    sim = Simulator()
    for op in ops:
        sim.apply(op)
    return sim
