"""Generate an org of N people (about 10 events each) into an event log, fast.

Every event is decided by the domain (``domain.simulation.Simulator``
runs ``decide`` / ``decide_mentorship`` on in-memory states, so the rules hold: the
ladder's order and experience minimums, one level change per day, no overlapping
rotations, mentor capacity and seniority, corrections of existing facts only). The
accepted commands are appended through the store in big multi-stream batches, in
effective-date order.

The org is a tree with eight reports per manager; seniority follows depth, managers
mentor a third of their reports, and only people without reports leave (and some come
back). Run: ``python -m bench.generate --people 10000 --url sqlite:///org.db``, or
``python -m bench.generate --people 121000 --cache bench/.cache`` to make (once) and reuse
an SQLite file of that org (121,000 people: just over 1,000,000 events).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from uuid import UUID, uuid4

from domain import commands as cmd
from domain import events as ev
from domain.serialization import stream_for, to_data, type_name
from domain.simulation import Simulator
from events.db import create_engine
from events.migrate import migrate
from events.port import Metadata, NewEvent, StreamAppend
from events.sealing import MASTER_KEY_ENV
from events.sql_store import SqlEventStore

# The benchmarks' orgs are sealed under one fixed master key, so a cached file opens in
# every later run, under any name, and in the servers a benchmark starts (they inherit the
# environment). Without it each file would get a development key file named after it,
# which a cache's rename leaves behind. Never a key for real data.
os.environ.setdefault(MASTER_KEY_ENV, "YmVuY2gtbWFzdGVyLWtleS1ub3QtZm9yLXJlYWwtZGE=")

TODAY = date(2025, 6, 30)
FIRST_HIRE = date(2015, 1, 5)
LAST_HIRE = date(2024, 6, 28)
FANOUT = 8
ACTOR = Metadata(actor_id="bench", actor_role="hr")

Action = tuple[date, int, Callable[[], object]]


def _rank(depth: int, rng: random.Random) -> int:
    return {0: 6, 1: 5, 2: 4, 3: 3}.get(depth, rng.choice((1, 1, 2)))


def plan_org(people: int, seed: int = 7) -> Simulator:
    """Decide the whole org's history in memory (pure; deterministic for a seed)."""
    rng = random.Random(seed)
    sim = Simulator(today=TODAY)
    span = (LAST_HIRE - FIRST_HIRE).days
    ids: list[UUID] = []
    actions: list[Action] = []
    seq = 0

    def at(day: date, act: Callable[[], object]) -> None:
        nonlocal seq
        if day <= TODAY:
            seq += 1
            actions.append((day, seq, act))

    depth = [0] * people
    for i in range(people):
        manager = (i - 1) // FANOUT if i else None
        if manager is not None:
            depth[i] = depth[manager] + 1
        hired = FIRST_HIRE + timedelta(days=span * i // people)
        ids.append(uuid4())
        _plan_person(sim, rng, at, ids, i, manager, hired, _rank(depth[i], rng), people)
    actions.sort(key=lambda a: (a[0], a[1]))
    for _, _, act in actions:
        act()
    return sim


def _plan_person(
    sim: Simulator,
    rng: random.Random,
    at: Callable[[date, Callable[[], object]], None],
    ids: list[UUID],
    i: int,
    manager: int | None,
    hired: date,
    rank: int,
    people: int,
) -> None:
    pid = ids[i]
    level = sim.ladder.levels[rank - 1]
    prior = level.min_years + rng.random() * 3

    def hire() -> None:
        sim.run(
            cmd.HirePerson(
                person_id=pid,
                name=f"Person {i:06d}",
                email=f"person{i}@example.com",
                track=sim.ladder.track,
                level=level.key,
                hired_on=hired,
                prior_years=round(prior, 2),
                manager_id=ids[manager] if manager is not None else None,
            )
        )

    at(hired, hire)
    last = hired
    for year in range(1, 11):
        day = hired + timedelta(days=365 * year + rng.randint(0, 60))
        if rng.random() < 0.5:
            exception = rng.random() < 0.03
            at(day, partial(sim.promote, pid, day, exception=exception))
            last = max(last, day)
    for _ in range(2):
        day = hired + timedelta(days=rng.randint(60, 1500))
        at(day, partial(_train, sim, pid, day))
    start = hired + timedelta(days=rng.randint(100, 500))
    for _ in range(rng.choice((1, 2))):
        rid = uuid4()
        end = start + timedelta(days=rng.randint(60, 120))
        at(start, partial(_rotate, sim, pid, rid, start))
        at(end, partial(_end_rotation, sim, pid, rid, end))
        last = max(last, end)
        start = end + timedelta(days=rng.randint(100, 400))
    if manager is not None and i % 3 == 0:
        mid, begin = uuid4(), hired + timedelta(days=rng.randint(20, 200))
        finish = begin + timedelta(days=180)
        at(begin, partial(_mentor, sim, mid, ids[manager], pid, begin))
        at(finish, partial(_end_mentorship, sim, mid, pid, finish))
        last = max(last, finish)
    if FANOUT * i + 1 >= people and rng.random() < 0.06:
        left = last + timedelta(days=rng.randint(30, 400))
        at(
            left,
            lambda: sim.run(cmd.RecordDeparture(person_id=pid, effective_on=left, reason="Left")),
        )
        if rng.random() < 0.3:
            back = left + timedelta(days=200)
            at(back, partial(_rehire, sim, pid, back))
    if rng.random() < 0.04:
        at(TODAY, partial(_fix, sim, pid, rescind=rng.random() < 0.25))


def _train(sim: Simulator, pid: UUID, day: date) -> None:
    sim.run(cmd.RecordTraining(person_id=pid, program="Leading Through Change", effective_on=day))


def _rotate(sim: Simulator, pid: UUID, rid: UUID, day: date) -> None:
    sim.run(
        cmd.StartRotation(
            rotation_id=rid,
            person_id=pid,
            host_team="Growth",
            development_area="role_rotation",
            effective_on=day,
            planned_end_on=day + timedelta(days=90),
        )
    )


def _end_rotation(sim: Simulator, pid: UUID, rid: UUID, day: date) -> None:
    sim.run(cmd.EndRotation(rotation_id=rid, person_id=pid, effective_on=day, outcome="Shipped"))


def _mentor(sim: Simulator, mid: UUID, mentor: UUID, mentee: UUID, day: date) -> None:
    sim.mentor(
        cmd.StartMentorship(
            mentorship_id=mid, mentor_id=mentor, mentee_id=mentee, effective_on=day, goals=("grow",)
        )
    )


def _end_mentorship(sim: Simulator, mid: UUID, mentee: UUID, day: date) -> None:
    sim.mentor(
        cmd.EndMentorship(mentorship_id=mid, person_id=mentee, effective_on=day, outcome="Met")
    )


def _depart(sim: Simulator, pid: UUID, day: date) -> None:
    sim.run(cmd.RecordDeparture(person_id=pid, effective_on=day, reason="Left"))


def _rehire(sim: Simulator, pid: UUID, day: date) -> None:
    level = sim.state(pid).level
    sim.run(
        cmd.RehirePerson(
            person_id=pid,
            effective_on=day,
            track=sim.ladder.track,
            level=level,
            # Recorded only when the experience on the day falls short of the level.
            experience_exception="Rehired at their former level.",
        )
    )


def _fix(sim: Simulator, pid: UUID, *, rescind: bool) -> None:
    state = sim.state(pid)
    trainings = [f for f in state.recorded if isinstance(f, ev.LeadershipTrainingCompleted)]
    if rescind:
        promotions = [f for f in state.recorded if isinstance(f, ev.PromotionRecorded)]
        if promotions:
            target = promotions[-1].event_id
            sim.run(cmd.RescindEvent(person_id=pid, target_event_id=target, reason="Void"))
    elif trainings:
        sim.run(
            cmd.CorrectEvent(
                person_id=pid,
                target_event_id=trainings[0].event_id,
                changes={"program": "Strategic Roadmapping"},
                reason="Wrong programme",
            )
        )


async def append_org(store: SqlEventStore, sim: Simulator, batch_events: int = 10_000) -> int:
    """Append every stream whole, many streams per transaction; returns the events appended.

    Streams keep the decided order; the log holds them stream after stream (one head
    lookup per stream instead of one per event), which a benchmark may ignore.
    """
    streams: dict[str, list[NewEvent]] = {}
    for group in sim.groups:
        for e in group:
            new = NewEvent(type_name(e), to_data(e), event_id=e.event_id)
            streams.setdefault(stream_for(e), []).append(new)
    batch: list[StreamAppend] = []
    size = total = 0
    for stream, events in streams.items():
        batch.append(StreamAppend(stream, events))
        size += len(events)
        if size >= batch_events:
            await store.append_streams(batch, metadata=ACTOR)
            total, batch, size = total + size, [], 0
    if batch:
        await store.append_streams(batch, metadata=ACTOR)
        total += size
    return total


async def generate(url: str, people: int, seed: int = 7) -> tuple[int, float, float]:
    """Plan and append an org; (events, seconds planning, seconds appending)."""
    t0 = time.perf_counter()
    sim = plan_org(people, seed)
    t1 = time.perf_counter()
    engine = create_engine(url)
    store = SqlEventStore(engine)
    try:
        await migrate(engine)
        events = await append_org(store, sim)
    finally:
        await store.close()  # its writer's connection too: the file is complete on return
        await engine.dispose()
    return events, t1 - t0, time.perf_counter() - t1


async def cached(people: int, folder: Path, seed: int = 7) -> Path:
    """The SQLite file of the org of ``people`` (and ``seed``) in ``folder``, generated on
    first use only: into a temporary name, renamed when complete, so an interrupted run
    never leaves a partial org to be reused. Benchmarks copy or rebuild its read models;
    the log itself is never changed by them."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"org-{people}-seed{seed}.db"
    if path.exists():
        return path
    partial = folder / f".{path.name}.{os.getpid()}.partial"
    events, planning, appending = await generate(f"sqlite+aiosqlite:///{partial}", people, seed)
    print(
        f"generated {people:,} people / {events:,} events into {path} "
        f"({planning:.0f}s deciding + {appending:.0f}s appending)"
    )
    partial.rename(path)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="an empty database (sqlite:///org.db)")
    where.add_argument("--cache", type=Path, help="a folder: make the org there once, reuse it")
    args = parser.parse_args(argv)
    if args.cache is not None:
        print(asyncio.run(cached(args.people, args.cache, args.seed)))
        return
    events, planning, appending = asyncio.run(generate(args.url, args.people, args.seed))
    print(
        f"{args.people} people, {events} events: decided in {planning:.1f}s, "
        f"appended in {appending:.1f}s ({events / appending:,.0f} events/s)"
    )


if __name__ == "__main__":
    main()
