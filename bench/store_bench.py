"""Event store benchmark: our store beside the raw driver and the ``eventsourcing`` library.

Run: ``python -m bench.store_bench`` (``--help`` for sizes and backends). For SQLite and
PostgreSQL it prints events/s for appends of 1 and of 100 events per transaction and for
``read_all`` (decoding included) over ``--read-events`` events, each beside the raw
driver (sqlite3 / asyncpg, same rows, same durability) and ``eventsourcing`` 9.x used as
its docs intend (an ``Application`` saving an aggregate; reads through its notification
log, mapped back to domain events), then the ratios. Each figure is the best of
``--rounds`` interleaved rounds (store, raw, eventsourcing, store, ...), so a swing in the
machine's load hits all three alike.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import orjson
import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from events.migrate import migrate
from events.port import ANY, Metadata, NewEvent
from events.rows import COLUMNS, INSERT_EVENTS, SELECT_EVENTS, SQLITE_BINDS
from events.sql_store import SqlEventStore, create_store

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
TEXT = "promoted after a strong half-year; mentoring two engineers; led the billing migration"
META = Metadata(actor_id="bench", actor_role="admin", correlation_id="c-1")
INSERT = INSERT_EVENTS + " VALUES ({})"
SELECT = SELECT_EVENTS + " WHERE position > {} ORDER BY position LIMIT {}"


def payload(i: int) -> dict[str, Any]:
    return {"text": TEXT, "n": i, "level": "L4"}


class Note(Aggregate):
    """The eventsourcing peer's aggregate: one event per ``note``."""

    @event("Started")
    def __init__(self) -> None:
        pass

    @event("Noted")
    def note(self, text: str, n: int, level: str) -> None:
        pass


class BenchApp(Application[Any]):
    log_section_size = 1000


def raw_row(pos: int, version: int, at: datetime, sqlite_style: bool) -> tuple[Any, ...]:
    return (
        pos,
        "person-raw",
        version,
        uuid4().hex if sqlite_style else uuid4(),
        "Noted",
        1,
        orjson.dumps(payload(pos)).decode(),
        orjson.dumps(META.as_dict()).decode(),
        at.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite_style else at,
        "0" * 64,
        "0" * 64,
    )


# -- our store -----------------------------------------------------------------------


async def store_append(url: str, txs: int, per_tx: int) -> float:
    store = await create_store(url)
    try:
        await store.append("person-warm", [NewEvent("Noted", payload(0))], ANY)
        start = time.perf_counter()
        for t in range(txs):
            evs = [NewEvent("Noted", payload(t * per_tx + i)) for i in range(per_tx)]
            await store.append(f"person-{t % 50}", evs, ANY, metadata=META)
        return txs * per_tx / (time.perf_counter() - start)
    finally:
        await store.close()


async def store_fill(store: SqlEventStore, n: int) -> None:
    chunk = 1000
    for t in range(0, n, chunk):
        evs = [NewEvent("Noted", payload(t + i)) for i in range(min(chunk, n - t))]
        await store.append(f"person-{t // chunk % 50}", evs, ANY, metadata=META)


async def store_read(store: SqlEventStore, page: int) -> tuple[float, int]:
    start = time.perf_counter()
    after, count = 0, 0
    while batch := await store.read_all(after_position=after, limit=page):
        count += len(batch)
        after = batch[-1].position
    return count / (time.perf_counter() - start), count


# -- raw drivers -----------------------------------------------------------------------


def sqlite_raw_append(path: str, txs: int, per_tx: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    sql = INSERT.format(SQLITE_BINDS)
    pos = (conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone() or [0])[0]
    start = time.perf_counter()
    for _ in range(txs):
        rows = [raw_row(pos + i + 1, pos + i + 1, datetime.now(UTC), True) for i in range(per_tx)]
        pos += per_tx
        conn.execute("BEGIN IMMEDIATE")
        if per_tx == 1:
            conn.execute(sql, rows[0])
        else:
            conn.executemany(sql, rows)
        conn.execute("COMMIT")
    rate = txs * per_tx / (time.perf_counter() - start)
    conn.close()
    return rate


def sqlite_raw_read(path: str, page: int) -> float:
    conn = sqlite3.connect(path)
    start = time.perf_counter()
    after, count = 0, 0
    while rows := conn.execute(SELECT.format("?", "?"), (after, page)).fetchall():
        count += len(rows)
        after = rows[-1][0]
    rate = count / (time.perf_counter() - start)
    conn.close()
    return rate


async def pg_raw_append(dsn: str, schema: str, txs: int, per_tx: int) -> float:
    conn = await asyncpg.connect(
        dsn, server_settings={"search_path": schema, "synchronous_commit": "on"}
    )
    sql = INSERT.format(", ".join(f"${i}" for i in range(1, len(COLUMNS) + 1)))
    pos = await conn.fetchval("SELECT coalesce(max(position), 0) FROM events")
    start = time.perf_counter()
    for _ in range(txs):
        rows = [raw_row(pos + i + 1, pos + i + 1, datetime.now(UTC), False) for i in range(per_tx)]
        pos += per_tx
        async with conn.transaction():
            if per_tx == 1:
                await conn.execute(sql, *rows[0])
            else:
                await conn.executemany(sql, rows)
    rate = txs * per_tx / (time.perf_counter() - start)
    await conn.close()
    return rate


async def pg_raw_read(dsn: str, schema: str, page: int) -> float:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    sql = SELECT.format("$1", "$2")
    start = time.perf_counter()
    after, count = 0, 0
    while rows := await conn.fetch(sql, after, page):
        count += len(rows)
        after = rows[-1][0]
    rate = count / (time.perf_counter() - start)
    await conn.close()
    return rate


# -- eventsourcing -----------------------------------------------------------------------


def es_append(env: dict[str, str], txs: int, per_tx: int) -> float:
    app = BenchApp(env=env)
    agg = Note()
    app.save(agg)
    start = time.perf_counter()
    for t in range(txs):
        for i in range(per_tx):
            agg.note(**payload(t * per_tx + i))
        app.save(agg)
    rate = txs * per_tx / (time.perf_counter() - start)
    app.close()
    return rate


async def es_append_from_asyncio(env: dict[str, str], txs: int) -> float:
    """Single-event saves called from an event loop: each ``save`` in ``asyncio.to_thread``.

    Informational: ``eventsourcing`` is synchronous, so an asyncio server (like ours)
    must hop to a thread per save, as the store does per append.
    """
    app = await asyncio.to_thread(BenchApp, env=env)
    agg = Note()
    await asyncio.to_thread(app.save, agg)
    start = time.perf_counter()
    for t in range(txs):
        agg.note(**payload(t))
        await asyncio.to_thread(app.save, agg)
    rate = txs / (time.perf_counter() - start)
    await asyncio.to_thread(app.close)
    return rate


def es_fill(env: dict[str, str], n: int) -> None:
    app = BenchApp(env=env)
    chunk = 1000
    for t in range(0, n, chunk):
        agg = Note()
        for i in range(min(chunk, n - t) - 1):
            agg.note(**payload(t + i))
        app.save(agg)
    app.close()


def es_read(env: dict[str, str], page: int) -> float:
    app = BenchApp(env=env)
    to_event = app.mapper.to_domain_event
    start = time.perf_counter()
    count, nxt = 0, 1
    while notes := app.notification_log.select(start=nxt, limit=page):
        events = [to_event(n) for n in notes]
        count += len(events)
        nxt = notes[-1].id + 1
    rate = count / (time.perf_counter() - start)
    app.close()
    return rate


# -- running -----------------------------------------------------------------------------


def report(label: str, ours: float, raw: float, peer: float, target: float) -> None:
    ok = ours >= target * raw and ours > peer
    print(
        f"  {label:<22} store {ours:>10,.0f} ev/s | raw {raw:>10,.0f} | eventsourcing "
        f"{peer:>10,.0f} | store/raw {ours / raw:5.2f} (target >= {target}) "
        f"store/es {ours / peer:5.2f}  {'OK' if ok else 'BELOW TARGET'}"
    )


async def bench_backend(
    name: str,
    new_url: Callable[[str], Awaitable[str]],
    raw_append: Callable[[str, int, int], Awaitable[float]],
    raw_read: Callable[[str, int], Awaitable[float]],
    es_env: Callable[[str], Awaitable[dict[str, str]]],
    args: argparse.Namespace,
) -> None:
    print(f"{name}:")
    for label, txs, per_tx in [
        ("append 1/tx", args.single_tx, 1),
        ("append 100/tx", args.batch_tx, 100),
    ]:
        if not txs:
            continue
        ours = raw = peer = hopped = 0.0
        for r in range(args.rounds):  # interleaved rounds, best of each: load swings hit all
            ours = max(ours, await store_append(await new_url(f"a{per_tx}_{r}"), txs, per_tx))
            raw_url = await new_url(f"r{per_tx}_{r}")
            await migrate(raw_url)
            raw = max(raw, await raw_append(raw_url, txs, per_tx))
            env = await es_env(f"e{per_tx}_{r}")
            peer = max(peer, await asyncio.to_thread(es_append, env, txs, per_tx))
            if per_tx == 1:
                env = await es_env(f"h{per_tx}_{r}")
                hopped = max(hopped, await es_append_from_asyncio(env, txs))
        report(label, ours, raw, peer, 0.6)
        if hopped:
            print(
                f"  {'':<22} (informational) eventsourcing with each save in asyncio.to_thread, "
                f"as an asyncio server must call it: {hopped:,.0f} ev/s, store/that "
                f"{ours / hopped:.2f}"
            )

    if not args.read_events:
        return
    url = await new_url("read")
    store = await create_store(url)
    try:
        await store_fill(store, args.read_events)
    finally:
        await store.close()  # SQLite: the last connection checkpoints the WAL, as for the others
    env = await es_env("eread")
    await asyncio.to_thread(es_fill, env, args.read_events)
    store = await create_store(url)
    try:
        await store_read(store, args.page)  # warm the page cache like the others get
        ours = raw = peer = 0.0
        for _ in range(args.rounds):
            rate, count = await store_read(store, args.page)
            ours = max(ours, rate)
            raw = max(raw, await raw_read(url, args.page))
            peer = max(peer, await asyncio.to_thread(es_read, env, args.page))
    finally:
        await store.close()
    report(f"read_all ({count:,} ev)", ours, raw, peer, 0.5)


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="store-bench-"))
    try:
        await run_backends(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # a default run leaves ~300 MB of SQLite files


async def run_backends(args: argparse.Namespace, tmp: Path) -> None:

    if "sqlite" in args.backends:

        async def sqlite_url(tag: str) -> str:
            return f"sqlite:///{tmp / tag}.db"

        async def sqlite_raw_append_(url: str, txs: int, per_tx: int) -> float:
            return sqlite_raw_append(url.removeprefix("sqlite:///"), txs, per_tx)

        async def sqlite_raw_read_(url: str, page: int) -> float:
            return sqlite_raw_read(url.removeprefix("sqlite:///"), page)

        async def sqlite_es(tag: str) -> dict[str, str]:
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": f"{tmp / tag}.db",
            }

        await bench_backend(
            "SQLite (WAL, synchronous=FULL)",
            sqlite_url,
            sqlite_raw_append_,
            sqlite_raw_read_,
            sqlite_es,
            args,
        )

    if "postgres" in args.backends:
        schemas: list[str] = []

        def schema_for(tag: str) -> str:
            schema = f"bench_{tag}_{uuid4().hex[:8]}"
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            schemas.append(schema)
            return schema

        async def pg_url(tag: str) -> str:
            return f"{PG_URL}?options=-csearch_path%3D{schema_for(tag)}"

        def schema_of(url: str) -> str:
            return url.rsplit("%3D", 1)[1]

        async def pg_raw_append_(url: str, txs: int, per_tx: int) -> float:
            return await pg_raw_append(PG_URL, schema_of(url), txs, per_tx)

        async def pg_raw_read_(url: str, page: int) -> float:
            return await pg_raw_read(PG_URL, schema_of(url), page)

        async def pg_es(tag: str) -> dict[str, str]:
            u = psycopg.conninfo.conninfo_to_dict(PG_URL)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": str(u.get("dbname", "test")),
                "POSTGRES_HOST": str(u.get("host", "127.0.0.1")),
                "POSTGRES_PORT": str(u.get("port", "5432")),
                "POSTGRES_USER": str(u.get("user", os.environ.get("USER", "postgres"))),
                "POSTGRES_PASSWORD": str(u.get("password", "")),
                "POSTGRES_SCHEMA": schema_for(tag),
            }

        try:
            await bench_backend(
                "PostgreSQL (asyncpg, synchronous_commit=on)",
                pg_url,
                pg_raw_append_,
                pg_raw_read_,
                pg_es,
                args,
            )
        finally:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                for schema in schemas:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--backends", default="sqlite,postgres", help="comma-separated")
    p.add_argument("--single-tx", type=int, default=300, help="transactions of 1 event per round")
    p.add_argument("--batch-tx", type=int, default=30, help="transactions of 100 events per round")
    p.add_argument("--read-events", type=int, default=200_000, help="events in the read test")
    p.add_argument("--page", type=int, default=1000, help="read_all page size")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best of each)")
    args = p.parse_args(argv)
    args.backends = set(args.backends.split(","))
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
