"""Bulk onboarding benchmark: ``import-people`` of N rows beside the raw store's floor.

Run: ``python -m bench.import_bench`` (``--rows 10000``). On a fresh SQLite file each
time, it prints rows/s for:

* ``import``: ``events.onboarding.import_people`` on a CSV of N generated rows (a VP,
  directors, group PMs and their reports, rows shuffled so managers often come after
  their reports): parse, judge every row with the hire rules, order managers first and
  append every hire in one transaction through ``CareerService``, read models included
  (target: 10,000 rows under 10 s);
* ``dry run``: the same judging without the append;
* ``floor``: the raw store (``SqlEventStore.append_streams``, no read models) appending
  the same hire events in one batch, the cost of the log alone.

Each figure is the best of ``--rounds`` interleaved rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from domain.onboarding import read_rows
from events.bootstrap import bootstrap
from events.db import create_engine
from events.migrate import migrate
from events.onboarding import import_people, plan
from events.port import NO_STREAM, Metadata, StreamAppend
from events.service import encode, person_stream
from events.sql_store import SqlEventStore

HEADER = "name,email,track,level,hired_on,prior_years,manager_email,experience_exception"
TODAY = date(2026, 6, 1)


def generate(rows: int, seed: int = 7) -> str:
    """A CSV of ``rows`` people: one VP, then directors, group PMs and ICs below them."""
    rng = random.Random(seed)
    lines = ["Vera Vp,vp@example.com,product,vp_product,2015-01-05,15,,"]
    directors = max(1, rows // 500)
    managers = max(1, rows // 25)
    for d in range(directors):
        lines.append(
            f"Director {d},d{d}@example.com,product,director,2016-03-01,11,vp@example.com,"
        )
    for m in range(managers):
        boss = f"d{m % directors}@example.com"
        lines.append(f"Manager {m},m{m}@example.com,product,group_pm,2017-06-01,9,{boss},")
    levels = (("apm", 0), ("pm", 2), ("senior_pm", 5))
    for i in range(rows - len(lines)):
        level, prior = levels[i % 3]
        hired = date(2018, 1, 1) + timedelta(days=rng.randrange(2500))
        boss = f"m{rng.randrange(managers)}@example.com"
        lines.append(f"Person {i},p{i}@example.com,product,{level},{hired},{prior},{boss},")
    body = lines[:rows]
    rng.shuffle(body)
    return "\n".join([HEADER, *body]) + "\n"


async def run_import(directory: Path, text: str, *, dry_run: bool) -> float:
    url = f"sqlite+aiosqlite:///{directory / f'import-{time.monotonic_ns()}.db'}"
    runtime = await bootstrap(url, listen=False, today=lambda: TODAY)
    try:
        started = time.perf_counter()
        report = await import_people(runtime.service, text, actor="bench", dry_run=dry_run)
        elapsed = time.perf_counter() - started
        if report.errors or report.hired != (0 if dry_run else report.rows):
            raise SystemExit(f"the import failed: {report.errors[:3]}")
        return elapsed
    finally:
        await runtime.close()


async def run_floor(directory: Path, text: str) -> float:
    """The same hire events appended by the bare store in one batch."""
    url = f"sqlite+aiosqlite:///{directory / f'plan-{time.monotonic_ns()}.db'}"
    runtime = await bootstrap(url, listen=False, today=lambda: TODAY)
    try:
        judged = await plan(runtime.service, read_rows(text)[0])
    finally:
        await runtime.close()
    appends = [
        StreamAppend(person_stream(h.command.person_id), [encode(e) for e in h.events], NO_STREAM)
        for h in judged.hires
    ]
    engine = create_engine(f"sqlite+aiosqlite:///{directory / f'floor-{time.monotonic_ns()}.db'}")
    await migrate(engine)
    store = SqlEventStore(engine)
    try:
        started = time.perf_counter()
        await store.append_streams(appends, metadata=Metadata(actor_id="bench"))
        return time.perf_counter() - started
    finally:
        await store.close()
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    text = generate(args.rows)
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for _ in range(args.rounds):
            timings = {
                "import": await run_import(directory, text, dry_run=False),
                "dry run": await run_import(directory, text, dry_run=True),
                "floor": await run_floor(directory, text),
            }
            for name, seconds in timings.items():
                best[name] = min(best.get(name, seconds), seconds)
    print(f"{args.rows:,} rows on SQLite, best of {args.rounds} rounds")
    print(f"{'':10} {'seconds':>8} {'rows/s':>9}")
    for name, seconds in best.items():
        print(f"{name:10} {seconds:8.2f} {args.rows / seconds:9,.0f}")
    print(
        f"import rate / floor rate: {best['floor'] / best['import']:.2f}; import under 10 s: "
        + ("yes" if best["import"] < 10 else "no")
    )


if __name__ == "__main__":
    asyncio.run(main())
