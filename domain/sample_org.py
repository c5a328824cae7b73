"""A sample organisation, decided by the domain as it is planned: the one org generator.

``plan_org(people, seed, ladder)`` simulates an org month by month over six years (hires,
promotions that respect the ladder, mentorships, rotations, trainings, departures and
rehires, managers handed over when one leaves), then a few corrections and a rescind
recorded "today". Every command is decided on the spot by a ``Simulator`` (the domain's
``decide`` and the service's checks, on in-memory states), so what comes out is a history
the service would have written: ``Simulator.groups``, one list of events per command, in
the order they were decided. It is pure and deterministic: every id (people, mentorships,
rotations, events) comes from a ``random.Random`` seeded with ``(seed, people)``, and
``DEMO_TODAY`` is fixed, so the same seed always gives the same history.

``ladder demo`` appends it (``events.sample``), ``bench/generate.py`` makes the
benchmarks' orgs with it, and the tests check it keeps the rules. Drawing managers and
mentors is constant-time (a pool and a few tries), so 100,000 people take seconds.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from uuid import UUID

from domain import commands as c
from domain.ladder import Ladder, default_ladder
from domain.readiness import months_between, unmet_requirements
from domain.simulation import Simulator

DEMO_TODAY = date(2025, 12, 31)
"""The sample org's "today": every seed's org ends on this date."""
YEARS = 6
MAX_MENTEES = 3
TRIES = 20
"""Draws before giving up on finding a manager or a mentor who fits."""

FIRST = "Ada Ben Chloe Dev Elena Farid Grace Hiro Ines Jonas Kemi Liam Mei Noor Omar Priya"
LAST = "Okafor Lindqvist Tanaka Moreau Patel Novak Silva Haddad Kowalski Reyes Chen Adeyemi"
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


@dataclass(eq=False)
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
    mentor: tuple[UUID, date, _Person] | None = None
    """(mentorship id, planned end, mentor) while mentored."""
    mentees: dict[UUID, _Person] = field(default_factory=dict)
    """Mentorship id -> mentee, while mentoring."""

    def years(self, on: date) -> float:
        """Prior years plus tenure without time away, as the domain counts it."""
        days = 0
        for start, end in self.periods:
            stop = on if end is None or end > on else end
            days += max(0, (stop - start).days)
        return self.prior_years + days / 365.25


class _Pool:
    """People to draw from at random: add, remove and draw in constant time."""

    def __init__(self) -> None:
        self.items: list[_Person] = []
        self.at: dict[UUID, int] = {}

    def add(self, p: _Person) -> None:
        if p.id not in self.at:
            self.at[p.id] = len(self.items)
            self.items.append(p)

    def remove(self, p: _Person) -> None:
        i = self.at.pop(p.id, None)
        if i is None:
            return
        last = self.items.pop()
        if last is not p:
            self.items[i] = last
            self.at[last.id] = i

    def draw(self, rng: random.Random, fits: Callable[[_Person], bool]) -> _Person | None:
        for _ in range(TRIES):
            if not self.items:
                return None
            p = self.items[rng.randrange(len(self.items))]
            if fits(p):
                return p
        return None


class _Planner:
    def __init__(self, people: int, seed: int, ladder: Ladder) -> None:
        self.rng = random.Random(f"ladder-demo:{seed}:{people}")  # noqa: S311 - not crypto
        self.sim = Simulator(ladder=ladder, today=DEMO_TODAY, new_id=self.uuid)
        self.levels = sorted(ladder.levels, key=lambda lv: lv.rank)
        self.people: dict[UUID, _Person] = {}
        self.staff = _Pool()
        """Everyone employed."""
        self.bosses = _Pool()
        """Everyone employed at rank 3 or more: who may manage."""
        self.reports: dict[UUID, dict[UUID, None]] = {}
        self.trainings: list[tuple[UUID, UUID, str]] = []
        """(event id, person, programme) of every training recorded."""
        self.promotions: list[tuple[UUID, UUID]] = []

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def reports_to(self, person: UUID, boss: UUID) -> bool:
        """Whether ``boss`` is in ``person``'s chain of managers (or is ``person``)."""
        seen: set[UUID] = set()
        current: UUID | None = person
        while current is not None and current not in seen:
            if current == boss:
                return True
            seen.add(current)
            current = self.people[current].manager
        return False

    def manager_for(self, p: UUID | None) -> UUID | None:
        """Someone who may manage ``p`` now: neither ``p`` nor anyone below them, so no
        chain of managers ever loops."""
        boss = self.bosses.draw(self.rng, lambda b: p is None or not self.reports_to(b.id, p))
        return None if boss is None else boss.id

    def set_manager(self, p: _Person, manager: UUID | None) -> None:
        if p.manager is not None:
            self.reports.get(p.manager, {}).pop(p.id, None)
        p.manager = manager
        if manager is not None:
            self.reports.setdefault(manager, {})[p.id] = None

    def employ(self, p: _Person) -> None:
        self.staff.add(p)
        if p.rank >= 3:
            self.bosses.add(p)

    # --- one kind of step each ------------------------------------------------------------

    def hire(self, on: date, *, rank: int) -> None:
        pid, n = self.uuid(), len(self.people) + 1
        first, last = self.rng.choice(FIRST.split()), self.rng.choice(LAST.split())
        level = self.levels[rank - 1]
        prior = level.min_years + self.rng.choice((0.0, 0.5, 1.0, 1.5, 2.0))
        boss = self.manager_for(None)
        hire = c.HirePerson(
            person_id=pid,
            name=f"{first} {last}",
            email=f"{first}.{last}.{n}@example.com".lower(),
            track=self.sim.ladder.track,
            level=level.key,
            hired_on=on,
            prior_years=prior,
            manager_id=boss,
        )
        if self.sim.run(hire):
            p = self.people[pid] = _Person(pid, rank, prior, on, on, None, [(on, None)])
            self.set_manager(p, boss)
            self.employ(p)

    def promote(self, p: _Person, on: date) -> None:
        target = self.levels[p.rank]
        exception = None
        unmet = unmet_requirements(target, months_between(p.level_since, on))
        if p.years(on) < target.min_years or unmet:
            if self.rng.random() > 0.15:
                return
            exception = "Exceptional impact; the panel waived the experience minimum."
        areas = self.rng.sample(sorted(EVIDENCE), 2)
        promoted = self.sim.run(
            c.RecordPromotion(
                person_id=p.id,
                to_level=target.key,
                effective_on=on,
                rationale=f"Ready for {target.title}: consistently operates at the next level.",
                evidence={a: EVIDENCE[a] for a in areas},
                experience_exception=exception,
            )
        )
        if promoted:
            self.promotions.append((promoted[-1].event_id, p.id))
            p.rank, p.level_since = p.rank + 1, on
            self.employ(p)

    def start_mentorship(self, mentee: _Person, on: date) -> None:
        mentor = self.staff.draw(
            self.rng,
            lambda m: m.rank > mentee.rank and len(m.mentees) < MAX_MENTEES and m.hired_on <= on,
        )
        if mentor is None:
            return
        mid = self.uuid()
        goals = tuple(self.rng.sample(GOALS, 2))
        if self.sim.mentor(c.StartMentorship(mid, mentor.id, mentee.id, on, goals)):
            mentor.mentees[mid] = mentee
            mentee.mentor = (mid, on + timedelta(days=self.rng.randint(120, 360)), mentor)

    def end_mentorship(self, mentee: _Person, on: date, outcome: str) -> None:
        if mentee.mentor is None:
            return
        mid, _, mentor = mentee.mentor
        self.sim.mentor(c.EndMentorship(mid, mentee.id, on, outcome))
        mentee.mentor = None
        mentor.mentees.pop(mid, None)

    def start_rotation(self, p: _Person, on: date) -> None:
        rid, end = self.uuid(), on + timedelta(days=self.rng.randint(90, 180))
        team, area = self.rng.choice(TEAMS), self.rng.choice(AREAS)
        if self.sim.run(c.StartRotation(rid, p.id, team, area, on, end)):
            p.rotation = (rid, end)

    def end_rotation(self, p: _Person, on: date) -> None:
        if p.rotation is not None:
            outcome = self.rng.choice(("Shipped the planned scope.", "Came back with a new skill."))
            self.sim.run(c.EndRotation(p.rotation[0], p.id, on, outcome))
            p.rotation, p.rotation_ended = None, on

    def depart(self, p: _Person, on: date) -> None:
        self.end_mentorship(p, on, "Ended early: the mentee left.")
        for mentee in list(p.mentees.values()):
            self.end_mentorship(mentee, on, "Ended early: the mentor left.")
        for report_id in list(self.reports.get(p.id, ())):
            report = self.people[report_id]
            if report.departed_on is not None or report.hired_on > on:
                continue
            new = self.manager_for(p.id)
            if new is not None and self.sim.run(c.ChangeManager(report.id, new, on)):
                self.set_manager(report, new)
        reason = self.rng.choice(("Moved abroad.", "Joined a start-up.", "Career break."))
        if self.sim.run(c.RecordDeparture(p.id, on, reason)):
            p.departed_on, p.rotation = on, None
            p.periods[-1] = (p.periods[-1][0], on)
            self.staff.remove(p)
            self.bosses.remove(p)

    def rehire(self, p: _Person, on: date) -> None:
        boss = self.manager_for(p.id)
        level = self.levels[p.rank - 1]
        # Someone promoted early on an exception comes back at that level on one again.
        exception = None if p.years(on) >= level.min_years else "Rehired at their former level."
        if self.sim.run(
            c.RehirePerson(p.id, on, self.sim.ladder.track, level.key, boss, exception)
        ):
            p.departed_on, p.level_since = None, on
            self.set_manager(p, boss)
            p.periods.append((on, None))
            self.employ(p)

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
            program = rng.choice(PROGRAMS)
            trained = self.sim.run(c.RecordTraining(p.id, program, on))
            if trained:
                self.trainings.append((trained[-1].event_id, p.id, program))
        elif (
            roll < 0.085
            and p.rotation is None
            and (p.rotation_ended is None or (on - p.rotation_ended).days > 60)
        ):
            self.start_rotation(p, on)
        elif roll < 0.115 and p.mentor is None and p.rank <= 3:
            self.start_mentorship(p, on)

    def corrections(self) -> None:
        """A few corrections and one rescind, recorded on ``DEMO_TODAY``."""
        how_many = max(1, len(self.people) // 25)
        fixed = self.rng.sample(self.trainings, min(how_many, len(self.trainings)))
        for event_id, pid, program in fixed:
            changes = {"program": program + " (advanced)"}
            self.sim.run(c.CorrectEvent(pid, event_id, changes, "The programme name was wrong."))
        for event_id, pid in self.rng.sample(self.promotions, min(how_many, len(self.promotions))):
            text = "Consistently operates at the next level; confirmed by the promotion panel."
            self.sim.run(
                c.CorrectEvent(
                    pid, event_id, {"rationale": text}, "Rationale completed after review."
                )
            )
        taken = {event_id for event_id, _, _ in fixed}
        spare = [t for t in self.trainings if t[0] not in taken]
        if spare:
            event_id, pid, _ = self.rng.choice(spare)
            self.sim.run(c.RescindEvent(pid, event_id, "Recorded twice by mistake."))


def plan_org(
    people: int,
    seed: int,
    ladder: Ladder | None = None,
    *,
    taken: Mapping[str, UUID] | None = None,
) -> Simulator:
    """The decided history of a sample org of ``people`` hires on ``ladder`` (pure).

    ``taken``: addresses (lower case) that people outside the org already have, by owner;
    a hire of one of them is refused, as the service would refuse it."""
    if people < 1:
        raise ValueError("people must be at least 1")
    planner = _Planner(people, seed, ladder or default_ladder())
    planner.sim.emails.update(taken or {})
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
    return planner.sim
