"""Sealing personal data: append and ``read_all`` with it beside the same run without it.

Run: ``python -m bench.erasure_bench`` (``--help`` for sizes and backends). For each
backend it appends the same career events (per person: a hire with name and email, a
promotion with rationale and evidence, a demotion, a training, a departure with a reason;
one command = one append, as the API writes) to two fresh logs, one through a store that
seals personal fields (``events.sealing``: AES-256-GCM, per-person keys) and one through a
store without a sealer, then reads each whole log with ``read_all`` (the sealed one opens
every field): "cold" is the first read of a process (it fetches every person's key),
"warm" the next one (keys cached, as in a running server). Rounds alternate sealed and
plain, and each figure is the best of ``--rounds``, so a swing in the machine's load hits
both alike. Prints events/s and the ratio sealed / plain (1.00 = no cost).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any
from uuid import uuid4

os.environ.setdefault("LADDER_MASTER_KEY", "YmVuY2gtb25seS1tYXN0ZXIta2V5LTMyLWJ5dGVzISE=")

from events.db import create_engine
from events.migrate import migrate
from events.port import ANY, Metadata, NewEvent
from events.sql_store import SqlEventStore

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+asyncpg://127.0.0.1:5432/test")
META = Metadata(actor_id="bench", actor_role="hr", correlation_id="c-1")
TEXT = "promoted after a strong half-year; mentoring two engineers; led the billing migration"


def person_events(i: int) -> tuple[str, list[dict[str, Any]]]:
    """One person's commands' events (type and data), as the service encodes them."""
    pid = str(uuid4())
    base = {"person_id": pid, "effective_on": "2024-01-02"}
    return f"person-{pid}", [
        {"type": "PersonHired", **base, "name": f"Person {i} Lastname", "track": "product",
         "email": f"person{i}@example.com", "level": "apm", "prior_years": 2.0,
         "manager_id": None, "ladder_version": 1, "experience_exception": None},
        {"type": "PromotionRecorded", **base, "track": "product", "from_level": "apm",
         "to_level": "pm", "ladder_version": 1, "rationale": TEXT,
         "evidence": {"business_impact": TEXT, "ux_design": TEXT}, "experience_exception": None},
        {"type": "DemotionRecorded", **base, "track": "product", "from_level": "pm",
         "to_level": "apm", "ladder_version": 1, "reason": TEXT},
        {"type": "LeadershipTrainingCompleted", **base, "program": "Leading",
         "development_area": "leadership_training"},
        {"type": "PersonDeparted", **base, "reason": "moved abroad"},
    ]  # fmt: skip


def workload(people: int) -> list[tuple[str, NewEvent]]:
    out: list[tuple[str, NewEvent]] = []
    for i in range(people):
        stream, events = person_events(i)
        for e in events:
            data = {k: v for k, v in e.items() if k != "type"}
            out.append((stream, NewEvent(e["type"], data)))
    return out


async def fresh(url: str, sealed: bool) -> SqlEventStore:
    engine = create_engine(url)
    await migrate(engine)
    return SqlEventStore(engine, sealer=None) if not sealed else SqlEventStore(engine)


async def read_everything(store: SqlEventStore, expected: int) -> float:
    start = time.perf_counter()
    after, n = 0, 0
    while page := await store.read_all(after, 1000):
        after, n = page[-1].position, n + len(page)
    assert n == expected
    return time.perf_counter() - start


async def run_once(
    url: str, sealed: bool, work: list[tuple[str, NewEvent]]
) -> tuple[float, float, float]:
    store = await fresh(url, sealed)
    try:
        start = time.perf_counter()
        for stream, event in work:
            await store.append(stream, [event], ANY, metadata=META)
        append_s = time.perf_counter() - start
        if store.sealer is not None:
            store.sealer.forget()  # the first read fetches the keys, as a fresh process does
        cold_s = await read_everything(store, len(work))
        warm_s = await read_everything(store, len(work))  # keys cached, as a running server
        return append_s, cold_s, warm_s
    finally:
        await store.close()
        await store.engine.dispose()


def sqlite_url(directory: str, name: str) -> str:
    return f"sqlite+aiosqlite:///{directory}/{name}.db"


async def pg_url(name: str) -> str:
    from bench.pg import create_schema, pg_schema_url

    return pg_schema_url(await create_schema(f"bench_{name}"))


async def bench(backend: str, people: int, rounds: int) -> None:
    work = workload(people)
    best: dict[tuple[bool, str], float] = {}
    schemas: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for sealed in (True, False) if r % 2 == 0 else (False, True):
                name = f"{'sealed' if sealed else 'plain'}{r}"
                if backend == "sqlite":
                    url = sqlite_url(tmp, name)
                else:
                    url = await pg_url(name)
                    schemas.append(url)
                append_s, cold_s, warm_s = await run_once(url, sealed, work)
                for kind, seconds in (
                    ("append", append_s),
                    ("read_all cold", cold_s),
                    ("read_all warm", warm_s),
                ):
                    key = (sealed, kind)
                    best[key] = min(best.get(key, seconds), seconds)
    if schemas:
        from bench.pg import drop_schema

        for url in schemas:
            await drop_schema(url.rsplit("%3D", 1)[-1])
    n = len(work)
    for kind in ("append", "read_all cold", "read_all warm"):
        plain, sealed_s = best[False, kind], best[True, kind]
        print(
            f"{backend:8} {kind:13} plain {n / plain:9.0f} ev/s  sealed {n / sealed_s:9.0f} ev/s"
            f"  sealed/plain time {sealed_s / plain:5.2f}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=400, help="People (5 events each).")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args(argv)
    chosen: list[str] = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    run: Callable[[str], Any] = lambda b: asyncio.run(bench(b, args.people, args.rounds))  # noqa: E731
    for backend in chosen:
        run(backend)


if __name__ == "__main__":
    main()
