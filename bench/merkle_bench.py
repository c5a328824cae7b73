"""What the Merkle tree costs and what its proofs cost.

Run: ``python -m bench.merkle_bench`` (``--help`` for sizes and backends). Prints, per
backend:

* appends of 1 and of 100 events per transaction by the store, beside the same store
  with its Merkle writes switched off in this process only (the tree-writing functions
  of ``events.sqlite_io`` / ``events.pg_io`` replaced by no-ops, on a separate
  database), best of ``--rounds`` interleaved rounds;
* an ``auditProof`` bundle (``events.bundle.build_bundle``) for one person of 10 events
  at ``--events`` events: p50 / p99 over ``--samples`` random people, and its size;
* offline verification (``events.bundle.verify_bundle``) of a 100-event bundle;
* single-event appends with a signed checkpoint written before each returns
  (``events.publisher``), beside the same appends without, for 1 and 16 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import orjson
import psycopg

from events import pg_io, sqlite_io
from events.bundle import build_bundle, verify_bundle
from events.merkle import CompactTree
from events.port import ANY, Metadata, NewEvent, StreamAppend
from events.publisher import CheckpointPublisher
from events.rows import INSERT_EVENTS, pg_binds
from events.sql_store import SqlEventStore, create_store
from events.tlog import Checkpoint, NoteSigner, sign_checkpoint

PG_URL = "postgresql://127.0.0.1:5432/test"
META = Metadata(actor_id="bench", actor_role="hr", correlation_id="c-1")
TEXT = "promoted after a strong half-year; mentoring two engineers; led the billing migration"
_NO_NODES = (
    "WITH lock AS (SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.events'))) "
    f"{INSERT_EVENTS} SELECT {pg_binds(arrays=False)} "
    "FROM lock, (SELECT $12::integer[], $13::bigint[], $14::bytea[]) AS unused"
)


def payload(i: int) -> dict[str, Any]:
    return {"text": TEXT, "n": i, "level": "L4"}


_PG_INSERT_NO_NODES = (
    f"{INSERT_EVENTS} SELECT u.* FROM unnest({pg_binds(arrays=True)}) AS u, "
    "(SELECT $12::integer[], $13::bigint[], $14::bytea[]) AS unused"
)
_PG_HEADS_NO_FRONTIER = (
    "SELECT g.position, g.recorded_at, s.version, s.hash, NULL FROM (SELECT 1) AS o "
    "LEFT JOIN (SELECT position, recorded_at FROM events ORDER BY position DESC LIMIT 1) AS g "
    "ON true LEFT JOIN (SELECT version, hash FROM events WHERE stream = $1 "
    "ORDER BY version DESC LIMIT 1) AS s ON true"
)


@contextmanager
def tree_switched_off() -> Iterator[None]:
    """The store as it was before the tree: no frontier read, no leaf hash, no node write
    (the statements keep their parameters, so the driver calls are the same)."""

    def sqlite_none(writer: Any, conn: Any, size: int, rows: Any) -> tuple[None, list[Any]]:
        return None, []

    def no_nodes(size: int, found: Any, leaves: Any) -> tuple[CompactTree, list[Any]]:
        return CompactTree(), [(0, 0, b"")]

    patches: list[tuple[Any, str, Any]] = [
        (sqlite_io.SqliteWriter, "_grow", sqlite_none),
        (pg_io, "grow", no_nodes),
        (pg_io, "row_leaf", lambda row: b""),
        (pg_io, "_INSERT", _PG_INSERT_NO_NODES),
        (pg_io, "_HEADS", _PG_HEADS_NO_FRONTIER),
        (pg_io, "_INSERT_LOCKED_WITH_NODES", _NO_NODES),
    ]
    saved = [(owner, name, vars(owner)[name]) for owner, name, _ in patches]
    for owner, name, value in patches:
        setattr(owner, name, value)
    try:
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


async def append_rate(store: SqlEventStore, txs: int, per_tx: int) -> float:
    await store.append("person-warm", [NewEvent("Noted", payload(0))], ANY)
    start = time.perf_counter()
    for t in range(txs):
        evs = [NewEvent("Noted", payload(t * per_tx + i)) for i in range(per_tx)]
        await store.append(f"person-{t % 50}", evs, ANY, metadata=META)
    return txs * per_tx / (time.perf_counter() - start)


async def bench_appends(urls: dict[str, str], args: argparse.Namespace) -> None:
    for label, txs, per_tx in (
        ("append 1/tx", args.single_tx, 1),
        ("append 100/tx", args.batch_tx, 100),
    ):
        best = {"tree": 0.0, "no tree": 0.0}
        for _ in range(args.rounds):
            for variant in ("tree", "no tree"):
                store = await create_store(urls[f"{variant}{per_tx}"])
                try:
                    if variant == "tree":
                        rate = await append_rate(store, txs, per_tx)
                    else:
                        with tree_switched_off():
                            rate = await append_rate(store, txs, per_tx)
                finally:
                    await store.close()
                best[variant] = max(best[variant], rate)
        ratio = best["tree"] / best["no tree"]
        print(
            f"  {label:<14} with tree {best['tree']:>9,.0f} ev/s   "
            f"without {best['no tree']:>9,.0f} ev/s   ratio {ratio:.2f} (target >= 0.90)"
        )


async def bench_checkpoint_log(urls: dict[str, str], tmp: Path, args: argparse.Namespace) -> None:
    """Single-event appends with a signed checkpoint written (fsync) before each returns,
    beside the same appends without, one client and 16 concurrent clients."""
    for clients in (1, 16):
        rates = {}
        for variant in ("without", "with"):
            store = await create_store(urls[f"log {variant} {clients}"])
            publisher = None
            if variant == "with":
                publisher = CheckpointPublisher(
                    store, NoteSigner.generate("bench.example/log"), tmp / f"cp{clients}.jsonl"
                )
                store.add_listener(publisher)
            try:
                await store.append("person-warm", [NewEvent("Noted", payload(0))], ANY)
                each = args.single_tx // clients

                async def client(c: int, store: SqlEventStore = store, each: int = each) -> None:
                    for i in range(each):
                        await store.append(f"person-{c}", [NewEvent("Noted", payload(i))], ANY)

                start = time.perf_counter()
                await asyncio.gather(*(client(c) for c in range(clients)))
                rates[variant] = each * clients / (time.perf_counter() - start)
            finally:
                await store.close()
        published = publisher.published if publisher is not None else 0
        print(
            f"  checkpoint per append, {clients:>2} client(s): {rates['with']:>7,.0f} ev/s "
            f"beside {rates['without']:>7,.0f} without ({rates['with'] / rates['without']:.2f}); "
            f"{published} checkpoints"
        )


async def bench_proofs(url: str, args: argparse.Namespace) -> None:
    store = await create_store(url)
    people = args.events // 10
    signer = NoteSigner.generate("bench.example/log")
    try:
        start = time.perf_counter()
        for t in range(0, args.events - 100, 100):  # 100 people per transaction, 1 event each
            parts = [
                StreamAppend(f"person-{(t + j) % people}", [NewEvent("Noted", payload(t + j))], ANY)
                for j in range(100)
            ]
            await store.append_streams(parts, metadata=META)
        await store.append(
            "person-hundred", [NewEvent("Noted", payload(i)) for i in range(100)], ANY
        )
        filled = time.perf_counter() - start
        size, root = await store.tree_root()
        note = sign_checkpoint(signer, Checkpoint(signer.name, size, root, datetime.now(UTC)))
        checkpoint = Checkpoint(signer.name, size, root)
        print(f"  filled {size:,} events in {filled:.0f} s")
        times: list[float] = []
        sizes: list[int] = []
        streams = random.Random(7).sample(range(people), min(args.samples, people))
        for p in streams:
            t0 = time.perf_counter()
            bundle = await build_bundle(store.engine, f"person-{p}", note, checkpoint)
            times.append((time.perf_counter() - t0) * 1000)
            sizes.append(len(orjson.dumps(bundle)))
            proofs = [len(e["inclusion"]) for e in bundle["events"]]
        times.sort()
        print(
            f"  auditProof, {len(bundle['events'])} events of one person at {size:,} events: "
            f"p50 {statistics.median(times):.1f} ms, "
            f"p99 {times[int(len(times) * 0.99) - 1]:.1f} ms "
            f"(target p50 <= 10 ms); bundle {statistics.median(sizes):,.0f} bytes, "
            f"{max(proofs)} hashes per inclusion proof"
        )
        hundred = orjson.dumps(await build_bundle(store.engine, "person-hundred", note, checkpoint))
        verifier = signer.verifier()
        runs = []
        for _ in range(20):
            t0 = time.perf_counter()
            _, findings = verify_bundle(hundred, verifier)
            runs.append((time.perf_counter() - t0) * 1000)
            assert findings == []
        print(
            f"  verify-proof of a 100-event bundle ({len(hundred):,} bytes): "
            f"p50 {statistics.median(runs):.1f} ms (target <= 50 ms)"
        )
    finally:
        await store.close()


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="merkle-bench-"))
    schemas: list[str] = []

    def url_for(backend: str, tag: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp / tag}.db"
        schema = f"bench_{tag.replace(' ', '_')}_{uuid4().hex[:8]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        schemas.append(schema)
        return f"{PG_URL}?options=-csearch_path%3D{schema}"

    try:
        for backend in args.backends.split(","):
            print(f"{backend}:")
            urls = {
                f"{v}{n}": url_for(backend, f"{v}{n}")
                for v in ("tree", "no tree")
                for n in (1, 100)
            }
            await bench_appends(urls, args)
            logs = {
                f"log {v} {c}": url_for(backend, f"log_{v}_{c}")
                for v in ("with", "without")
                for c in (1, 16)
            }
            await bench_checkpoint_log(logs, tmp, args)
            if args.events:
                await bench_proofs(url_for(backend, "proofs"), args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if schemas:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                for schema in schemas:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--backends", default="sqlite,postgres", help="comma-separated")
    p.add_argument("--single-tx", type=int, default=300, help="transactions of 1 event per round")
    p.add_argument("--batch-tx", type=int, default=30, help="transactions of 100 events per round")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best of each)")
    p.add_argument("--events", type=int, default=100_000, help="log size for the proof figures")
    p.add_argument("--samples", type=int, default=200, help="people proven")
    return p.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
