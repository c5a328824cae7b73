"""Serve-ready time: ``ladder serve`` started, ``/readyz`` polled until it answers 200.

Run: ``python -m bench.startup_bench`` (``--people 121000``: the org of
``bench/generate.py``, 1,006,000-odd events, made once into ``--cache``). Before timing,
the read models are made current (a rebuild the first time, a catch-up after). It then
prints, in the same run, the seconds from starting ``ladder serve`` to the first 200 of
``/readyz`` on:

* a fresh database (the baseline: migrations, the default ladder, empty read models);
* the big org, read models current (target <= 5 s);
* the big org with ``--behind`` events appended after the read models' checkpoint (the
  server catches up before it answers, and logs what it is doing meanwhile).

The server's own log lines are printed under each figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.generate import cached
from bench.rebuild_bench import some_people, write_some
from events.db import create_engine
from events.projections import ALL
from events.projector import Projector
from events.sql_store import SqlEventStore

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_ready(url: str, timeout: float = 300.0) -> tuple[float, list[str]]:
    """Seconds from starting ``ladder serve`` on ``url`` to ``/readyz`` 200; its output."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LADDER_LOG_FORMAT": "text"}
    cmd = [sys.executable, "-c", "from api.cli.main import main; main()", "serve"]
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        server = subprocess.Popen(
            [*cmd, "--port", str(port), "--database-url", url],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"the server exited ({server.returncode})")
                if time.perf_counter() - t0 > timeout:
                    raise TimeoutError("not ready in time")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                        if r.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                time.sleep(0.05)
            seconds = time.perf_counter() - t0
        finally:
            server.terminate()
            server.wait(30)
        out.seek(0)
        lines = out.read().decode(errors="replace").splitlines()
    return seconds, lines


async def make_current(url: str) -> None:
    engine = create_engine(url)
    store = SqlEventStore(engine)
    try:
        await Projector(engine, store, ALL).start()
    finally:
        await store.close()
        await engine.dispose()


def show(label: str, seconds: float, lines: list[str], target: str = "") -> None:
    print(f"{label:<44}{seconds:>7.2f} s  {target}")
    for line in lines:
        if line.strip():
            print(f"    | {line[:160]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=121_000)
    parser.add_argument("--cache", type=Path, default=Path("bench/.cache"))
    parser.add_argument("--behind", type=int, default=2000, help="events to catch up")
    args = parser.parse_args(argv)
    path = asyncio.run(cached(args.people, args.cache))
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(make_current(url))
    with tempfile.TemporaryDirectory() as tmp:
        seconds, lines = serve_ready(f"sqlite+aiosqlite:///{Path(tmp) / 'fresh.db'}")
        show("fresh database (baseline)", seconds, lines)
    events = asyncio.run(_count(url))
    seconds, lines = serve_ready(url)
    show(f"{events:,} events, read models current", seconds, lines, "(target <= 5 s)")
    asyncio.run(write_some(url, some_people(path), args.behind))
    seconds, lines = serve_ready(url)
    show(f"{events:,} events, {args.behind:,} to catch up", seconds, lines)


async def _count(url: str) -> int:
    engine = create_engine(url)
    store = SqlEventStore(engine)
    try:
        return await store.last_position()
    finally:
        await store.close()
        await engine.dispose()


if __name__ == "__main__":
    main()
