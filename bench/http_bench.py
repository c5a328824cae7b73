"""HTTP benchmark with a C load generator: the served API beside hand-written floors.

Run: ``python -m bench.http_bench`` (``--backend postgres``, ``--people 100000``,
``--duration 10``). It generates an org (``bench/generate.py``; cached in ``bench/.data``
for SQLite), starts ONE server process pinned to CPU 0 (``taskset -c 0``) serving the real
app with two bare routes beside ``/graphql`` (``bench/http_server.py``: hand-written
``sqlite3``/``asyncpg`` statements and JSON, none of the project's query code), and drives
it with ``wrk`` pinned to CPU 1. For each read it prints our req/s beside the bare route's,
measured in the same run. For writes (``hirePerson``, every request a new person; then
``recordPromotion``, every request promoting one of those hires a level) it prints
commands/s beside the raw durable append rate of this machine: a plain ``INSERT`` per
transaction into a table of the same shape, ``synchronous=FULL`` (SQLite) /
``synchronous_commit=on`` (PostgreSQL), measured in the same run. A write answered with
errors is counted as ``refused``. ``--only writes`` (or ``reads``) runs half the figures.

Needs the Debian packages ``wrk`` and ``util-linux`` (``taskset``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx

from api.auth import Role, mint_token
from events.db import create_engine

SECRET = "bench-secret-that-is-long-enough-for-hs256-0123"
DATA = Path(__file__).resolve().parent / ".data"
HERE = Path(__file__).resolve().parent

PERSON = (
    "query($id: ID!) { person(id: $id) { name level { title } "
    "careerHistory { events { type effectiveOn } } } }"
)
PEOPLE = "{ people(first: 50) { edges { node { name level { title } } } } }"
HIRE = "mutation($i: HirePersonInput!) { hirePerson(input: $i) { position errors { code } } }"
PROMOTE = (
    "mutation($i: RecordPromotionInput!) "
    "{ recordPromotion(input: $i) { position errors { code } } }"
)
# Each promotion round moves every hired bench person one level up, on its own date.
ROUNDS = (("pm", "2004-01-05"), ("senior_pm", "2008-01-07"))
# Counts the answers that are not a write (a payload with errors, a top-level error).
REFUSALS = """
threads = {}
refused = 0
setup = function(thread) table.insert(threads, thread) end
response = function(status, headers, body)
  if not string.find(body, '"errors":[]', 1, true) then refused = refused + 1 end
end
done = function(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("refused") end
  io.write("refused: " .. n .. "\\n")
end
"""


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    refused: int = 0
    requests: int = 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def token(subject: str) -> str:
    return mint_token(SECRET, Role.HR, subject, timedelta(hours=4))


def lua_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def person_script(path: str, ids: list[str]) -> str:
    table = ",".join(f'"{i}"' for i in ids)
    query = lua_escape(PERSON).replace("%", "%%")
    body = '{"query": "' + query + '", "variables": {"id": "%s"}}'
    return f"""
ids = {{{table}}}
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer {token("bench")}"
request = function()
  local id = ids[math.random(#ids)]
  return wrk.format(nil, "{path}", nil, string.format("{lua_escape(body)}", id))
end
"""


def static_script(path: str, query: str) -> str:
    body = '{"query": "' + lua_escape(query) + '"}'
    return f"""
wrk.method = "POST"
wrk.path = "{path}"
wrk.body = "{lua_escape(body)}"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer {token("bench")}"
"""


def hire_script(salt: int) -> str:
    """Every request hires a new person; ids ``bench_id(salt, n)``, so the promotions
    that follow can name them."""
    body = (
        '{"query": "' + lua_escape(HIRE) + '", "variables": {"i": {"name": "Bench %d %d", '
        '"email": "bench.%d.%d@example.com", "track": "product", "level": "apm", '
        '"hiredOn": "2000-01-03", "personId": "%08x-0000-4000-8000-%012x"}}}'
    )
    return f"""
counter = 0
salt = {salt}
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer {token("hr-bench")}"
request = function()
  counter = counter + 1
  return wrk.format(nil, "/graphql", nil,
    string.format("{lua_escape(body)}", salt, counter, salt, counter, salt, counter))
end
{REFUSALS}"""


def promote_script(ids: list[str], start: int) -> str:
    """Every request promotes the next bench hire one level (``ROUNDS``: everyone to the
    first level, then everyone to the next), so no person is promoted twice a round;
    ``start`` is the number of promotions earlier runs asked for."""
    table = ",".join(f'"{i}"' for i in ids)
    levels = ",".join(f'{{"{level}", "{on}"}}' for level, on in ROUNDS)
    body = (
        '{"query": "' + lua_escape(PROMOTE) + '", "variables": {"i": {"personId": "%s", '
        '"toLevel": "%s", "effectiveOn": "%s", "rationale": "bench"}}}'
    )
    return f"""
ids = {{{table}}}
rounds = {{{levels}}}
counter = {start}
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer {token("hr-bench")}"
request = function()
  local i = counter % #ids
  local r = rounds[math.floor(counter / #ids) % #rounds + 1]
  counter = counter + 1
  return wrk.format(nil, "/graphql", nil,
    string.format("{lua_escape(body)}", ids[i + 1], r[1], r[2]))
end
{REFUSALS}"""


def bench_hires(url: str, salts: list[int]) -> list[str]:
    """The ids of the people the hire runs with ``salts`` hired, in hire order."""

    async def read() -> list[str]:
        import sqlalchemy as sa

        engine = create_engine(url)
        found: list[str] = []
        try:
            async with engine.connect() as conn:
                for salt in salts:
                    result = await conn.execute(
                        sa.text(
                            "SELECT stream FROM events WHERE type = 'PersonHired' "
                            "AND stream LIKE :prefix ORDER BY position"
                        ),
                        {"prefix": f"person-{salt:08x}-%"},
                    )
                    found.extend(str(r[0]).removeprefix("person-") for r in result)
        finally:
            await engine.dispose()
        return found

    return asyncio.run(read())


def wrk(port: int, script: str, connections: int, duration: int) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        name = f.name
    try:
        out = subprocess.run(
            [
                "taskset",
                "-c",
                "1",
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{duration}s",
                "--latency",
                "-s",
                name,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _latency(out, "50%")
    p99 = _latency(out, "99%")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    refused = re.search(r"refused: (\d+)", out)
    done = re.search(r"(\d+) requests in", out)
    return Run(
        rps,
        p50,
        p99,
        int(bad.group(1)) if bad else 0,
        int(refused.group(1)) if refused else 0,
        int(done.group(1)) if done else 0,
    )


def _latency(out: str, pct: str) -> float:
    found = re.search(rf"\s{re.escape(pct)}\s+([\d.]+)(us|ms|s)", out)
    if found is None:
        return float("nan")
    value, unit = float(found.group(1)), found.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def raw_append_rate(url: str, seconds: float = 3.0) -> float:
    """Plain INSERTs of an events-shaped row, one per transaction, durable."""
    row = ("person-" + str(uuid.uuid4()), "PersonHired", '{"name": "x"}' * 20)
    if url.startswith("sqlite"):
        path = Path(tempfile.mkdtemp()) / "raw.db"
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(
            "CREATE TABLE raw (position INTEGER PRIMARY KEY, stream TEXT, type TEXT, data TEXT)"
        )
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO raw (stream, type, data) VALUES (?, ?, ?)", row)
            conn.execute("COMMIT")
            n += 1
        rate = n / (time.perf_counter() - start)
        conn.close()
        shutil.rmtree(path.parent)
        return rate

    async def pg() -> float:
        import asyncpg

        conn = await asyncpg.connect("postgresql://127.0.0.1:5432/test")
        try:
            await conn.execute("SET synchronous_commit = on")
            await conn.execute(
                "CREATE TEMP TABLE raw (position bigserial PRIMARY KEY, stream text, "
                "type text, data text)"
            )
            n, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                async with conn.transaction():
                    await conn.execute(
                        "INSERT INTO raw (stream, type, data) VALUES ($1, $2, $3)", *row
                    )
                n += 1
            return n / (time.perf_counter() - start)
        finally:
            await conn.close()

    return asyncio.run(pg())


def org(backend: str, people: int) -> str:
    """A database holding a generated org of ``people`` (SQLite: cached copy)."""
    from bench.generate import generate

    if backend == "sqlite":
        DATA.mkdir(exist_ok=True)
        cached = DATA / f"http-org-{people}.db"
        if not cached.exists():
            tmp = cached.with_suffix(".tmp")
            tmp.unlink(missing_ok=True)
            asyncio.run(generate(f"sqlite:///{tmp}", people))
            tmp.rename(cached)
        work = Path(tempfile.mkdtemp()) / "org.db"
        shutil.copy(cached, work)
        return f"sqlite:///{work}"
    raise ValueError(backend)


def pg_org(people: int) -> tuple[str, str]:
    import psycopg

    schema = f"bench_http_{people}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect("postgresql://127.0.0.1:5432/test", autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"postgresql://127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    from bench.generate import generate

    asyncio.run(generate(url, people))
    return url, schema


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://127.0.0.1:5432/test", autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def sample_ids(url: str, n: int = 500) -> list[str]:
    async def read() -> list[str]:
        import sqlalchemy as sa

        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                result = await conn.execute(
                    sa.text("SELECT person_id FROM rm_people ORDER BY person_id LIMIT :n"),
                    {"n": n},
                )
                return [str(r[0]) for r in result]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def start_server(url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "LADDER_TOKEN_SECRET": SECRET, "PYTHONPATH": str(HERE.parent)}
    proc = subprocess.Popen(
        [
            "taskset",
            "-c",
            "0",
            sys.executable,
            str(HERE / "http_server.py"),
            "--url",
            url,
            "--port",
            str(port),
        ],
        env=env,
    )
    deadline = time.monotonic() + 600
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the benchmark server did not start")
        time.sleep(0.5)


def check_same_answer(port: int, person_id: str) -> bool:
    token = mint_token(SECRET, Role.HR, "bench", timedelta(hours=1))
    headers = {"authorization": f"Bearer {token}", "accept": "application/json"}
    body = {"query": PERSON, "variables": {"id": person_id}}
    ours = httpx.post(f"http://127.0.0.1:{port}/graphql", json=body, headers=headers).json()
    bare = httpx.post(f"http://127.0.0.1:{port}/bare/person", json=body, headers=headers).json()
    ours.pop("extensions", None)
    return bool(ours["data"]["person"]["name"] == bare["data"]["person"]["name"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument(
        "--only", choices=["reads", "writes"], default=None, help="run only these figures"
    )
    args = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed (apt-get install wrk util-linux)")
    schema = None
    if args.backend == "sqlite":
        url = org("sqlite", args.people)
    else:
        url, schema = pg_org(args.people)
    proc, port = start_server(url)
    try:
        ids = sample_ids(url)
        same = check_same_answer(port, ids[0])
        d = args.duration
        rows: list[tuple[str, Run, Run | None, str]] = []
        if args.only != "writes":
            for conns in (16, 1):
                ours = wrk(port, person_script("/graphql", ids), conns, d)
                bare = wrk(port, person_script("/bare/person", ids), conns, d)
                name = f"person {{ careerHistory }}, {conns} conn"
                rows.append((name, ours, bare, "bare route"))
            ours = wrk(port, static_script("/graphql", PEOPLE), 16, d)
            bare = wrk(port, static_script("/bare/people", PEOPLE), 16, d)
            rows.append(("people(first: 50), 16 conn", ours, bare, "bare route"))
        if args.only != "reads":
            # The floor of both writes: the raw durable append rate, measured in this run.
            raw = raw_append_rate(url)
            salts = [random.randrange(1 << 31) for _ in (8, 1)]
            for conns, salt in zip((8, 1), salts, strict=True):
                ours = wrk(port, hire_script(salt), conns, d)
                rows.append((f"hirePerson, {conns} conn", ours, None, f"{raw:,.0f}"))
            hired, asked = bench_hires(url, salts), 0
            for conns in (8, 1):
                ours = wrk(port, promote_script(hired, asked), conns, d)
                # wrk counts the answered requests; the ones in flight at its stop were
                # written too: the next run starts after them.
                asked += ours.requests + conns
                rows.append((f"recordPromotion, {conns} conn", ours, None, f"{raw:,.0f}"))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if schema is not None:
            drop_schema(schema)
    print(
        f"\n{args.backend}, {args.people:,} people, wrk {d}s per figure "
        f"(server on CPU 0, wrk on CPU 1); same answer checked: {same}\n"
    )
    print("| path | ours req/s (p50 / p99 ms) | floor req/s (p50 / p99 ms) | ratio |")
    print("|---|---:|---:|---:|")
    for name, o, b, note in rows:
        if b is not None:
            floor, ratio = f"{b.rps:,.0f} ({b.p50_ms:.2f} / {b.p99_ms:.2f})", o.rps / b.rps
        else:
            floor, ratio = f"{note} (raw durable appends/s)", o.rps / float(note.replace(",", ""))
        errs = f", {o.errors} non-2xx" if o.errors else ""
        errs += f", {o.refused} refused" if o.refused else ""
        print(
            f"| {name} | {o.rps:,.0f} ({o.p50_ms:.2f} / {o.p99_ms:.2f}){errs} | "
            f"{floor} | {ratio:.2f} |"
        )


if __name__ == "__main__":
    main()
