"""Read-model benchmark: rebuild speed beside the raw read of the same rows, query latency.

Run: ``python -m bench.readmodel_bench --people 10000`` (or ``--people 10000,100000``).
For each size it generates the org once (``bench/generate.py``; cached in ``--dir``) on
SQLite, then prints, in the same run:

* the raw read rate of the log's rows (``sqlite3`` cursor, JSON decoded) and the store's
  ``read_all`` rate over the same rows;
* the rebuild rate of every projection together (in this process alone, and shared with
  a worker process) and of each alone (``--only-main``: people and timeline alone), in
  events/s, beside the raw read rate of the same rows measured in the same run, and their
  ratio (target >= 0.4);
* a hand-written replay into a copy of the timeline table (``sqlite3``: read, decode,
  build the row, executemany, create the indexes): what that one table costs with no
  framework at all, as a second baseline for the timeline's rebuild;
* p50/p99 of a person's timeline from the read model, of ``get_person`` and of an as-of
  replay of one person from the log (``timetravel.person_as_of``), over random people.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import orjson

from bench.generate import generate
from domain.serialization import TYPE_NAMES
from events.db import create_engine
from events.projections import ALL
from events.projections.timeline import FACT_TYPES as FACT_CLASSES
from events.projector import Projector
from events.readmodels import api_queries, queries
from events.readmodels.tables import METADATA
from events.rows import SELECT_EVENTS
from events.sql_store import SqlEventStore
from events.timetravel import person_as_of

FACT_TYPES = {TYPE_NAMES[cls] for cls in FACT_CLASSES}
SELECT = SELECT_EVENTS + " WHERE position > ? ORDER BY position LIMIT ?"


def raw_read(path: Path, page: int = 20_000) -> tuple[int, float]:
    """Every row through the bare driver, data and metadata decoded: (rows, seconds)."""
    conn = sqlite3.connect(path)
    try:
        t0 = time.perf_counter()
        after, n = 0, 0
        while rows := conn.execute(SELECT, (after, page)).fetchall():
            for r in rows:
                orjson.loads(r[6])
                orjson.loads(r[7])
            after, n = rows[-1][0], n + len(rows)
        return n, time.perf_counter() - t0
    finally:
        conn.close()


def hand_written_timeline(path: Path, page: int = 20_000) -> tuple[int, float]:
    """Replay the log into a copy of ``rm_timeline`` by hand: (events read, seconds)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("DROP TABLE IF EXISTS bench_timeline")
        ddl = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'rm_timeline'"
        ).fetchone()[0]
        conn.execute(ddl.replace("rm_timeline", "bench_timeline", 1))
        conn.commit()
        t0 = time.perf_counter()
        after, n, out = 0, 0, []
        while rows := conn.execute(SELECT, (after, page)).fetchall():
            for position, _, version, eid, type_, _, data, meta, ts, _, _ in rows:
                d = orjson.loads(data)
                m = orjson.loads(meta)
                if type_ not in FACT_TYPES:
                    continue
                event_id = f"{eid[:8]}-{eid[8:12]}-{eid[12:16]}-{eid[16:20]}-{eid[20:]}"
                out.append(
                    (
                        event_id,
                        d["person_id"],
                        position,
                        version,
                        type_,
                        d["effective_on"],
                        ts,
                        m.get("actor_id"),
                        d.get("to_track") or d.get("track"),
                        d.get("from_level"),
                        d.get("to_level") or d.get("level"),
                        d.get("experience_exception"),
                        data,
                        *(None, "[]", None, None, None, None, None),
                    )
                )
            after, n = rows[-1][0], n + len(rows)
        out.sort()
        conn.executemany(f"INSERT INTO bench_timeline VALUES ({', '.join('?' * 20)})", out)
        conn.execute("CREATE INDEX bench_tl_person ON bench_timeline (person_id, effective_on)")
        conn.execute("CREATE INDEX bench_tl_type ON bench_timeline (type, effective_on)")
        conn.commit()
        seconds = time.perf_counter() - t0
        conn.execute("DROP TABLE bench_timeline")
        conn.commit()
        return n, seconds
    finally:
        conn.close()


async def store_read(store: SqlEventStore, page: int = 20_000) -> tuple[int, float]:
    t0 = time.perf_counter()
    after, n = 0, 0
    while events := await store.read_all(after_position=after, limit=page):
        after, n = events[-1].position, n + len(events)
    return n, time.perf_counter() - t0


async def latencies(fn: Callable[[UUID], Awaitable[object]], ids: list[UUID]) -> str:
    times: list[float] = []
    for pid in ids:
        t0 = time.perf_counter()
        await fn(pid)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p50 = statistics.median(times)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return f"p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"


async def bench(people: int, folder: Path, samples: int, each: bool) -> None:
    path = folder / f"org-{people}.db"
    url = f"sqlite+aiosqlite:///{path}"
    if not path.exists():
        events, planning, appending = await generate(url, people)
        print(f"generated {people} people / {events} events ({planning:.0f}s + {appending:.0f}s)")
    # The best of three: a shared machine only ever slows a run down, so this keeps
    # the ratios below conservative.
    rows, raw_s = min((raw_read(path) for _ in range(3)), key=lambda r: r[1])
    raw = rows / raw_s
    print(f"\n== {people:,} people, {rows:,} events (SQLite) ==")
    print(f"raw read (sqlite3 + JSON)       {raw:>10,.0f} events/s")
    engine = create_engine(url)
    try:
        store = SqlEventStore(engine)
        n, s = await store_read(store)
        print(
            f"store.read_all                  {n / s:>10,.0f} events/s  ({n / s / raw:.2f} of raw)"
        )
        projector = Projector(engine, store, ALL)
        async with engine.begin() as conn:  # the tables only: the timed rebuild builds them
            await conn.run_sync(METADATA.create_all)
        alone = [p.name for p in ALL] if each else ["people", "timeline"]
        print(f"{'':<32}{'rebuild':>10}  {'raw':>10}  ratio (target >= 0.4)")
        runs: list[tuple[str, list[str] | None, int]] = [
            ("rebuild, all, one process", None, 1),
            ("rebuild, all, with a worker", None, 2),
            *((f"rebuild, {name} only", [name], 1) for name in alone),
        ]
        for label, names, workers in runs:
            t0 = time.perf_counter()
            await projector.rebuild(names, workers=workers)
            seconds = time.perf_counter() - t0
            rate = rows / seconds
            print(
                f"{label:<32}{rate:>10,.0f}  {raw:>10,.0f}  {rate / raw:.2f}"
                f"  events/s ({seconds:.1f}s)"
            )
        n, s = hand_written_timeline(path)
        print(
            f"{'hand-written timeline replay':<32}{n / s:>10,.0f}  {raw:>10,.0f}  "
            f"{n / s / raw:.2f}  events/s ({s:.1f}s; same table, no framework)"
        )
        assert all(c.ok for c in await projector.check_consistency())
        rng = random.Random(1)
        page = await api_queries.list_people(
            engine, api_queries.PeopleFilter(), limit=500, today=date(2025, 6, 30)
        )
        everyone = [UUID(e.person.person_id) for e in page]
        ids = [rng.choice(everyone) for _ in range(samples)]
        on = date(2025, 6, 30)

        async def timeline(pid: UUID) -> object:
            return await queries.timeline(engine, pid)

        async def person(pid: UUID) -> object:
            return await queries.get_person(engine, pid, today=on)

        async def as_of(pid: UUID) -> object:
            return await person_as_of(store, pid, as_of=on - timedelta(days=rng.randint(0, 2000)))

        print(f"timeline (read model)           {await latencies(timeline, ids)}")
        print(f"get_person (read model)         {await latencies(person, ids)}")
        print(f"as-of replay (log)              {await latencies(as_of, ids)}")
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", default="10000", help="sizes, comma-separated")
    parser.add_argument("--dir", type=Path, default=Path("bench/.data"))
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument(
        "--only-main",
        dest="each",
        action="store_false",
        help="rebuild only people and timeline alone (default: every projection alone)",
    )
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    for size in (int(s) for s in args.people.split(",")):
        asyncio.run(bench(size, args.dir, args.samples, args.each))


if __name__ == "__main__":
    main()
