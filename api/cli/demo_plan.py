"""A sample organisation, generated through the same commands as the API.

``plan_demo(people, seed)`` simulates an org month by month over six years (hires,
promotions that respect the ladder, mentorships, rotations, trainings, departures and
rehires, managers handed over when one leaves) and returns the commands in effective
order, followed by a few corrections and a rescind recorded "today". It is pure and
deterministic: ids come from a ``random.Random`` seeded with ``(seed, people)``, and
``DEMO_TODAY`` is fixed, so the same seed always plans the same commands.

``run_demo(service, plan)`` executes them with ``CareerService.execute``. Every command
carries the idempotency key ``demo-<seed>-<people>-<n>``: each is one transaction, so an
interrupted run leaves whole commands only, and running it again with the same seed
replays what was written and continues where it stopped. For the log itself to be the
same for a seed, the service must decide with ``today = DEMO_TODAY`` (the date recorded
on corrections).
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from domain import commands as c
from domain.errors import LadderError
from domain.ladder import Ladder
from domain.readiness import months_between, unmet_requirements
from events.port import Metadata
from events.service import CareerService, CommandResult

DEMO_TODAY = date(2025, 12, 31)
"""The demo's "today": every seed's org ends on this date."""
YEARS = 6
MAX_MENTEES = 3
ACTOR = Metadata(actor_id="demo", actor_role="hr")

FIRST = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Liam",
    "Mei",
    "Noor",
    "Omar",
    "Priya",
]
LAST = [
    "Okafor",
    "Lindqvist",
    "Tanaka",
    "Moreau",
    "Patel",
    "Novak",
    "Silva",
    "Haddad",
    "Kowalski",
    "Reyes",
    "Chen",
    "Adeyemi",
]
TEAMS = ("Growth", "Payments", "Search", "Platform", "Design Systems", "Data", "Mobile")
AREAS = ("role_rotation", "ux_design", "analytics", "technical_understanding")
PROGRAMS = ("Leading Through Change", "Strategic Roadmapping", "Coaching Essentials")
GOALS = ("Own a roadmap end to end", "Run discovery interviews", "Present to leadership")
EVIDENCE = {
    "business_impact": "Shipped a feature that met its quarterly business goal.",
    "leadership_qualities": "Led the team through a difficult launch.",
    "team_contribution": "Ran the guild and onboarded two new colleagues.",
    "analytics": "Built the funnel dashboard the team now steers by.",
    "mentorship": "Mentored a junior product manager to promotion.",
}


@dataclass(frozen=True, slots=True)
class Fix:
    """Correct (``changes``) or rescind (``changes is None``) what step ``target`` wrote."""

    target: int
    person_id: UUID
    changes: dict[str, Any] | None
    reason: str


Step = c.Command | Fix


@dataclass
class _Person:
    id: UUID
    rank: int
    prior_years: float
    hired_on: date
    level_since: date
    manager: UUID | None
    periods: list[tuple[date, date | None]]
    departed_on: date | None = None
    rotation: tuple[UUID, date] | None = None
    rotation_ended: date | None = None
    mentor: tuple[UUID, date] | None = None
    """(mentorship id, planned end) while mentored."""
    mentees: set[UUID] = field(default_factory=set)

    def years(self, on: date) -> float:
        """Prior years plus tenure without time away, as the domain counts it."""
        days = 0
        for start, end in self.periods:
            stop = on if end is None or end > on else end
            days += max(0, (stop - start).days)
        return self.prior_years + days / 365.25


@dataclass
class DemoPlan:
    seed: int
    people: int
    today: date
    steps: list[Step] = field(default_factory=list)

    def key(self, index: int) -> str:
        return f"demo-{self.seed}-{self.people}-{index}"


class _Planner:
    def __init__(self, people: int, seed: int, ladder: Ladder) -> None:
        self.rng = random.Random(f"ladder-demo:{seed}:{people}")  # noqa: S311 - not crypto
        self.ladder = ladder
        self.levels = sorted(ladder.levels, key=lambda lv: lv.rank)
        self.plan = DemoPlan(seed, people, DEMO_TODAY)
        self.people: dict[UUID, _Person] = {}
        self.trainings: list[tuple[int, UUID]] = []
        self.promotions: list[tuple[int, UUID]] = []

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def add(self, step: Step) -> int:
        self.plan.steps.append(step)
        return len(self.plan.steps) - 1

    def active(self) -> list[_Person]:
        return [p for p in self.people.values() if p.departed_on is None]

    def managers(self, exclude: UUID | None = None) -> list[_Person]:
        """Who may manage now: active, rank 3 or more, and (with ``exclude``) neither that
        person nor anyone below them, so no chain of managers ever loops."""
        below = self.below(exclude) if exclude is not None else set()
        return [p for p in self.active() if p.rank >= 3 and p.id != exclude and p.id not in below]

    def below(self, boss: UUID) -> set[UUID]:
        """Everyone whose chain of managers reaches ``boss`` (leavers included)."""
        reports: dict[UUID, list[UUID]] = {}
        for p in self.people.values():
            if p.manager is not None:
                reports.setdefault(p.manager, []).append(p.id)
        found: set[UUID] = set()
        todo = [boss]
        while todo:
            for report in reports.get(todo.pop(), ()):
                if report not in found and report != boss:
                    found.add(report)
                    todo.append(report)
        return found

    # --- one kind of step each ------------------------------------------------------------

    def hire(self, on: date, *, rank: int) -> None:
        pid, n = self.uuid(), len(self.people) + 1
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        level = self.levels[rank - 1]
        prior = level.min_years + self.rng.choice((0.0, 0.5, 1.0, 1.5, 2.0))
        bosses = self.managers()
        boss = self.rng.choice(bosses).id if bosses else None
        self.add(
            c.HirePerson(
                person_id=pid,
                name=f"{first} {last}",
                email=f"{first}.{last}.{n}@example.com".lower(),
                track=self.ladder.track,
                level=level.key,
                hired_on=on,
                prior_years=prior,
                manager_id=boss,
            )
        )
        self.people[pid] = _Person(pid, rank, prior, on, on, boss, [(on, None)])

    def promote(self, p: _Person, on: date) -> None:
        target = self.levels[p.rank]
        exception = None
        unmet = unmet_requirements(target, months_between(p.level_since, on))
        if p.years(on) < target.min_years or unmet:
            if self.rng.random() > 0.15:
                return
            exception = "Exceptional impact; the panel waived the experience minimum."
        areas = self.rng.sample(sorted(EVIDENCE), 2)
        index = self.add(
            c.RecordPromotion(
                person_id=p.id,
                to_level=target.key,
                effective_on=on,
                rationale=f"Ready for {target.title}: consistently operates at the next level.",
                evidence={a: EVIDENCE[a] for a in areas},
                experience_exception=exception,
            )
        )
        self.promotions.append((index, p.id))
        p.rank, p.level_since = p.rank + 1, on

    def start_mentorship(self, mentee: _Person, on: date) -> None:
        mentors = [
            m
            for m in self.active()
            if m.rank > mentee.rank and len(m.mentees) < MAX_MENTEES and m.hired_on <= on
        ]
        if not mentors:
            return
        mentor, mid = self.rng.choice(mentors), self.uuid()
        goals = tuple(self.rng.sample(GOALS, 2))
        self.add(c.StartMentorship(mid, mentor.id, mentee.id, on, goals))
        mentor.mentees.add(mid)
        mentee.mentor = (mid, on + timedelta(days=self.rng.randint(120, 360)))

    def end_mentorship(self, mentee: _Person, on: date, outcome: str) -> None:
        if mentee.mentor is None:
            return
        mid = mentee.mentor[0]
        self.add(c.EndMentorship(mid, mentee.id, on, outcome))
        mentee.mentor = None
        for m in self.people.values():
            m.mentees.discard(mid)

    def start_rotation(self, p: _Person, on: date) -> None:
        rid, end = self.uuid(), on + timedelta(days=self.rng.randint(90, 180))
        team, area = self.rng.choice(TEAMS), self.rng.choice(AREAS)
        self.add(c.StartRotation(rid, p.id, team, area, on, end))
        p.rotation = (rid, end)

    def end_rotation(self, p: _Person, on: date) -> None:
        if p.rotation is not None:
            outcome = self.rng.choice(("Shipped the planned scope.", "Came back with a new skill."))
            self.add(c.EndRotation(p.rotation[0], p.id, on, outcome))
            p.rotation, p.rotation_ended = None, on

    def depart(self, p: _Person, on: date) -> None:
        self.end_mentorship(p, on, "Ended early: the mentee left.")
        for mentee in [m for m in self.active() if m.mentor and m.mentor[0] in p.mentees]:
            self.end_mentorship(mentee, on, "Ended early: the mentor left.")
        others = self.managers(exclude=p.id)
        for report in [r for r in self.active() if r.manager == p.id and r.id != p.id]:
            new = self.rng.choice(others).id if others else None
            if new is not None and new != report.id and report.hired_on <= on:
                self.add(c.ChangeManager(report.id, new, on))
                report.manager = new
        reason = self.rng.choice(("Moved abroad.", "Joined a start-up.", "Career break."))
        self.add(c.RecordDeparture(p.id, on, reason))
        p.departed_on, p.rotation = on, None
        p.periods[-1] = (p.periods[-1][0], on)

    def rehire(self, p: _Person, on: date) -> None:
        bosses = self.managers(exclude=p.id)
        boss = self.rng.choice(bosses).id if bosses else None
        level = self.levels[p.rank - 1]
        # Someone promoted early on an exception comes back at that level on one again.
        exception = None if p.years(on) >= level.min_years else "Rehired at their former level."
        self.add(c.RehirePerson(p.id, on, self.ladder.track, level.key, boss, exception))
        p.departed_on, p.manager, p.level_since = None, boss, on
        p.periods.append((on, None))

    # --- the simulation -------------------------------------------------------------------

    def month(self, first: date, hires: list[int]) -> None:
        last_day = calendar.monthrange(first.year, first.month)[1]
        rng = self.rng
        actions: list[tuple[date, int, Callable[[date], None]]] = []

        def at(day: int, act: Callable[[date], None]) -> None:
            actions.append((first.replace(day=min(day, last_day)), len(actions), act))

        for rank in hires:
            at(rng.randint(1, 28), partial(self.hire, rank=rank))
        for p in list(self.people.values()):
            at(rng.randint(1, 28), partial(self.step_person, p))
        for on, _, act in sorted(actions, key=lambda a: (a[0], a[1])):
            act(on)

    def step_person(self, p: _Person, on: date) -> None:
        rng = self.rng
        if p.departed_on is not None:
            if (on - p.departed_on).days > 180 and rng.random() < 0.03:
                self.rehire(p, on)
            return
        if on <= max(p.level_since, p.hired_on):
            return
        if p.rotation is not None and p.rotation[1] <= on:
            self.end_rotation(p, on)
        if p.mentor is not None and p.mentor[1] <= on:
            self.end_mentorship(p, on, rng.choice(("Goals met.", "Ready to mentor others.")))
        roll = rng.random()
        if roll < 0.006:
            self.depart(p, on)
        elif roll < 0.07 and p.rank < len(self.levels) and (on - p.level_since).days > 365:
            self.promote(p, on)
        elif roll < 0.075:
            index = self.add(c.RecordTraining(p.id, rng.choice(PROGRAMS), on))
            self.trainings.append((index, p.id))
        elif (
            roll < 0.085
            and p.rotation is None
            and (p.rotation_ended is None or (on - p.rotation_ended).days > 60)
        ):
            self.start_rotation(p, on)
        elif roll < 0.115 and p.mentor is None and p.rank <= 3:
            self.start_mentorship(p, on)

    def corrections(self) -> None:
        how_many = max(1, len(self.people) // 25)
        for index, pid in self.rng.sample(self.trainings, min(how_many, len(self.trainings))):
            step = self.plan.steps[index]
            if isinstance(step, c.RecordTraining):
                fixed = {"program": step.program + " (advanced)"}
                self.add(Fix(index, pid, fixed, "The programme name was recorded wrong."))
        for index, pid in self.rng.sample(self.promotions, min(how_many, len(self.promotions))):
            text = "Consistently operates at the next level; confirmed by the promotion panel."
            self.add(Fix(index, pid, {"rationale": text}, "Rationale completed after review."))
        taken = {s.target for s in self.plan.steps if isinstance(s, Fix)}
        spare = [t for t in self.trainings if t[0] not in taken]
        if spare:
            index, pid = self.rng.choice(spare)
            self.add(Fix(index, pid, None, "Recorded twice by mistake."))


def plan_demo(people: int, seed: int, ladder: Ladder) -> DemoPlan:
    """The commands of a sample org of ``people`` hires on ``ladder`` (pure)."""
    if people < 1:
        raise ValueError("people must be at least 1")
    planner = _Planner(people, seed, ladder)
    rng = planner.rng
    start = date(DEMO_TODAY.year - YEARS, DEMO_TODAY.month, 1)
    months = YEARS * 12
    founders = max(1, min(people, 3 + people // 10))
    top = len(planner.levels)
    hires: dict[int, list[int]] = {
        0: [top] + [rng.randint(3, top - 1) for _ in range(founders - 1)]
    }
    weights = (35, 35, 20, 8, 2)
    for _ in range(people - founders):
        month = rng.randint(1, months - 1)
        rank = rng.choices(range(1, len(weights) + 1), weights=weights)[0]
        hires.setdefault(month, []).append(min(rank, top))
    for m in range(months):
        first = date(start.year + (start.month - 1 + m) // 12, (start.month - 1 + m) % 12 + 1, 1)
        planner.month(first, hires.get(m, []))
    planner.corrections()
    return planner.plan


@dataclass
class DemoOutcome:
    commands: int = 0
    events: int = 0
    refused: list[str] = field(default_factory=list)


async def run_demo(
    service: CareerService,
    plan: DemoPlan,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> DemoOutcome:
    """Execute ``plan`` through ``service``; a refused command is noted and skipped."""
    outcome = DemoOutcome()
    results: dict[int, CommandResult] = {}
    for index, step in enumerate(plan.steps):
        command = _resolve(step, results)
        if command is not None:
            meta = Metadata(ACTOR.actor_id, ACTOR.actor_role, idempotency_key=plan.key(index))
            try:
                results[index] = await service.execute(command, metadata=meta)
            except LadderError as exc:
                outcome.refused.append(f"step {index} {type(command).__name__}: {exc.code}")
            else:
                outcome.commands += 1
                outcome.events += len(results[index].events)
        if progress is not None:
            progress(index + 1, len(plan.steps))
    return outcome


def _resolve(step: Step, results: dict[int, CommandResult]) -> c.Command | None:
    if not isinstance(step, Fix):
        return step
    written = results.get(step.target)
    if written is None:
        return None
    target = written.events[-1].event_id
    if step.changes is None:
        return c.RescindEvent(step.person_id, target, step.reason)
    return c.CorrectEvent(step.person_id, target, step.changes, step.reason)
