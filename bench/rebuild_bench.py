"""Full rebuild at a million events: rate beside the raw read, peak memory, writers held.

Run: ``python -m bench.rebuild_bench`` (``--people 121000``: 1,006,000-odd events; the org
is generated once into ``--cache`` by ``bench/generate.py`` and reused). In one run, on
SQLite, it prints:

* the raw read rate of the log's rows (``sqlite3`` cursor, data and metadata decoded by
  orjson; the best of two): the floor the rebuild is compared with;
* the full rebuild of every projection in one process (``Projector.rebuild(workers=1)``,
  in a child process of its own so that its peak RSS is its alone): events/s, the ratio
  to the raw read (target >= 0.3), peak RSS (target <= 1 GB);
* writers held at the swap (target <= 1 s), measured by a writer in another process that
  appends an event every 20 ms throughout the rebuild, projecting it inline as the server
  does, and times each append: the longest
  append that overlapped the swap (the projector's ``last_swap`` window), and the longest
  append during the whole rebuild (target <= 1 s as well: the rebuild's writes into its new
  tables, and the emptying of the old ones after the swap, take SQLite's write lock too,
  in transactions of their own), with the three longest and when they came, and the
  longest of the rebuild's own write transactions.

``--postgres URL`` also copies the log into that (empty) PostgreSQL database
(``events.transfer``) and rebuilds there, printed beside.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import resource
import time
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from bench.generate import cached
from bench.readmodel_bench import raw_read
from domain import events as ev
from domain.serialization import to_data, type_name
from events.db import create_engine, is_sqlite
from events.inline import InlineProjector, PgInlineProjector
from events.port import Metadata, NewEvent
from events.projections import ALL
from events.projector import Projector
from events.sql_store import SqlEventStore

WRITER = Metadata(actor_id="bench-writer", actor_role="hr")


def rebuild_in_child(url: str, out: Any) -> None:
    """Rebuild every projection in this (child) process; send back what it measured."""
    logging.basicConfig(level=logging.INFO, format="  %(asctime)s %(name)s: %(message)s")
    out.put(asyncio.run(_rebuild(url)))


async def _rebuild(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    store = SqlEventStore(engine)
    try:
        projector = Projector(engine, store, ALL)
        t0 = time.perf_counter()
        position = await projector.rebuild(workers=1)
        seconds = time.perf_counter() - t0
        # The writer appends meanwhile: the projections may be behind, never skipping.
        consistent = not any(c.skipped for c in await projector.check_consistency())
        return {
            "seconds": seconds,
            "position": position,
            "swap": projector.last_swap,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "longest_write": projector.longest_write,
            "started": time.time() - seconds,
            "consistent": consistent,
        }
    finally:
        await store.close()
        await engine.dispose()


def write_in_child(url: str, people: list[str], stop: Any, out: Any, every: float) -> None:
    """Append one event every ``every`` seconds until ``stop`` is set; send back each
    append's (start, seconds) in wall-clock time."""
    out.put(asyncio.run(_write(url, people, stop, every)))


async def _write(url: str, people: list[str], stop: Any, every: float) -> list[tuple[float, float]]:
    engine = create_engine(url)
    store = SqlEventStore(engine)
    # As a server appends: each append writes its read-model rows in its own transaction
    # (``events.bootstrap``), so it meets whatever locks the rebuild holds on those tables.
    if is_sqlite(engine):
        store.project_inline(sqlite=InlineProjector(ALL, engine.dialect))
    else:
        store.project_inline(postgres=PgInlineProjector(ALL, engine.dialect))
    timings: list[tuple[float, float]] = []
    try:
        n = 0
        while not stop.is_set():
            person = people[n % len(people)]
            n += 1
            started, t0 = time.time(), time.perf_counter()
            await store.append(f"person-{person}", [training(person)], "any", metadata=WRITER)
            timings.append((started, time.perf_counter() - t0))
            await asyncio.sleep(every)
        return timings
    finally:
        await store.close()
        await engine.dispose()


def training(person: str) -> NewEvent:
    """A training completed by ``person`` (valid whatever their career)."""
    event = ev.LeadershipTrainingCompleted(
        person_id=UUID(person),
        effective_on=date(2025, 6, 30),
        program="Leading Through Change",
        development_area="leadership_training",
        event_id=uuid4(),
    )
    return NewEvent(type_name(event), to_data(event), event_id=event.event_id)


async def write_some(url: str, people: list[str], n: int) -> None:
    """Append ``n`` trainings of ``people`` to the log (and nothing to the read models)."""
    engine = create_engine(url)
    store = SqlEventStore(engine)
    try:
        for i in range(n):
            person = people[i % len(people)]
            await store.append(f"person-{person}", [training(person)], "any", metadata=WRITER)
    finally:
        await store.close()
        await engine.dispose()


def some_people(path: Path, n: int = 1000) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT DISTINCT substr(stream, 8) FROM events WHERE stream LIKE 'person-%' "
            "AND type = 'PersonHired' LIMIT ?",
            (n,),
        ).fetchall()
        return [r[0] for r in rows]
    finally:
        conn.close()


def measure(url: str, people: list[str], every: float) -> tuple[dict[str, Any], list[Any]]:
    """The rebuild in one child process, the writer in another, at the same time."""
    spawn = multiprocessing.get_context("spawn")
    results, writes, stop = spawn.Queue(), spawn.Queue(), spawn.Event()
    writer = spawn.Process(target=write_in_child, args=(url, people, stop, writes, every))
    writer.start()
    time.sleep(2.0)  # the writer is appending before the rebuild starts
    builder = spawn.Process(target=rebuild_in_child, args=(url, results))
    builder.start()
    built = results.get()
    builder.join()
    time.sleep(1.0)
    stop.set()
    timings = writes.get()
    writer.join()
    return built, timings


def report(label: str, rows: int, raw: float, built: dict[str, Any], timings: list[Any]) -> None:
    rate = rows / built["seconds"]
    print(
        f"{label:<34}{rate:>10,.0f} events/s  ({built['seconds']:.1f}s)  "
        f"{rate / raw:.2f} of raw (target >= 0.3)"
    )
    rss = built["rss_mb"]
    print(f"{'  peak RSS of the rebuilding process':<34}{rss:>10,.0f} MB (target <= 1024)")
    if built["swap"] is not None:
        start, end = built["swap"]
        during = [s for t0, s in timings if t0 <= end and t0 + s >= start]
        held = max(during, default=0.0)
        print(
            f"{'  writers held at the swap':<34}{held:>10.3f} s  (target <= 1; swap lock "
            f"{end - start:.3f} s; {len(during)} append(s) overlapped it)"
        )
    longest = max((s for _, s in timings), default=0.0)
    typical = sorted(s for _, s in timings)[len(timings) // 2] if timings else 0.0
    print(
        f"{'  appends during the rebuild':<34}{len(timings):>10}  p50 {typical * 1000:.1f} ms, "
        f"longest {longest:.3f} s (target <= 1)"
    )
    slow = sorted(timings, key=lambda t: -t[1])[:3]
    when = ", ".join(f"{s:.2f} s at +{t0 - built['started']:.0f} s" for t0, s in slow)
    print(f"{'    the longest three':<34}{'':>10}  {when}")
    print(
        f"{'  longest write transaction':<34}{built['longest_write']:>10.3f} s  "
        "(the rebuild's own, into its new tables)"
    )
    print(f"{'  read models consistent with log':<34}{built['consistent']!s:>10}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=121_000)
    parser.add_argument("--cache", type=Path, default=Path("bench/.cache"))
    parser.add_argument("--every", type=float, default=0.02, help="seconds between appends")
    parser.add_argument("--rounds", type=int, default=1, help="rebuilds (each reported)")
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL (test db)")
    args = parser.parse_args(argv)
    path = asyncio.run(cached(args.people, args.cache))
    url = f"sqlite+aiosqlite:///{path}"
    rows, raw_s = min((raw_read(path) for _ in range(2)), key=lambda r: r[1])
    raw = rows / raw_s
    print(f"\n== {args.people:,} people, {rows:,} events (SQLite, one process) ==")
    print(f"{'raw read (sqlite3 + orjson)':<34}{raw:>10,.0f} events/s  ({raw_s:.1f}s)")
    people = some_people(path)
    for n in range(args.rounds):
        built, timings = measure(url, people, args.every)
        report(f"full rebuild #{n + 1}", rows, raw, built, timings)
    if args.postgres:
        on_postgres(path, people, args.every, args.rounds, raw)


def on_postgres(path: Path, people: list[str], every: float, rounds: int, raw: float) -> None:
    """The same rebuild on PostgreSQL, on a copy of the log in a schema of its own
    (exported from the SQLite file once, imported with its hashes checked); its ratio is
    to the SQLite raw read of the same rows."""
    from bench.pg import create_pg_schema, drop_pg_schema, pg_schema_url
    from events.migrate import migrate
    from events.transfer import export_log, import_log

    export = path.with_suffix(".jsonl")
    if not export.exists():
        asyncio.run(_export(export_log, f"sqlite+aiosqlite:///{path}", export))
    schema = create_pg_schema("bench")
    try:
        url = pg_schema_url(schema)
        t0 = time.perf_counter()
        rows = asyncio.run(_import(migrate, import_log, url, export))
        print(
            f"\n== the same log on PostgreSQL ({rows:,} events imported in "
            f"{time.perf_counter() - t0:.0f}s) =="
        )
        for n in range(rounds):
            built, timings = measure(url, people, every)
            report(f"full rebuild #{n + 1}", rows, raw, built, timings)
    finally:
        drop_pg_schema(schema)


async def _export(export_log: Any, url: str, to: Path) -> None:
    engine = create_engine(url)
    try:
        await export_log(engine, to)
    finally:
        await engine.dispose()


async def _import(migrate: Any, import_log: Any, url: str, source: Path) -> int:
    engine = create_engine(url)
    try:
        await migrate(engine)
        return int((await import_log(engine, source)).events)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
