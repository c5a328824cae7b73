"""Generate an org of N people into an event log, fast: the sample org of ``ladder demo``.

Every event is decided by the domain: ``domain.sample_org.plan_org`` (the one org
generator, shared with ``ladder demo`` and the tests) runs ``decide`` /
``decide_mentorship`` and the service's checks on in-memory states, so the rules hold
(the ladder's order and experience minimums, one level change per day, no overlapping
rotations, mentor capacity and seniority, no loop of managers, unique emails, corrections
of existing facts only). Six years of hires, promotions, mentorships, rotations,
trainings, departures, rehires, a few corrections; about 6.5 events per person. The
decided streams are appended through the store in big multi-stream batches.

Run: ``python -m bench.generate --people 10000 --url sqlite:///org.db``, or
``python -m bench.generate --people 155000 --cache bench/.cache`` to make (once) and
reuse an SQLite file of that org (155,000 people: about 1,000,000 events).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

from domain.sample_org import plan_org
from domain.serialization import stream_for
from domain.simulation import Simulator
from events.db import create_engine
from events.migrate import migrate
from events.port import Metadata, NewEvent, StreamAppend
from events.sealing import MASTER_KEY_ENV
from events.service import encode
from events.sql_store import SqlEventStore

# The benchmarks' orgs are sealed under one fixed master key, so a cached file opens in
# every later run, under any name, and in the servers a benchmark starts (they inherit the
# environment). Without it each file would get a development key file named after it,
# which a cache's rename leaves behind. Never a key for real data.
os.environ.setdefault(MASTER_KEY_ENV, "YmVuY2gtbWFzdGVyLWtleS1ub3QtZm9yLXJlYWwtZGE=")

ACTOR = Metadata(actor_id="bench", actor_role="hr")
GENERATOR = "sample"
"""Part of a cached file's name: files made by an earlier generator are not reused."""


async def append_org(store: SqlEventStore, sim: Simulator, batch_events: int = 10_000) -> int:
    """Append every stream whole, many streams per transaction; returns the events appended.

    Streams keep the decided order; the log holds them stream after stream (one head
    lookup per stream instead of one per event), which a benchmark may ignore.
    """
    streams: dict[str, list[NewEvent]] = {}
    for group in sim.groups:
        for e in group:
            streams.setdefault(stream_for(e), []).append(encode(e))
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
    path = folder / f"org-{GENERATOR}-{people}-seed{seed}.db"
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
