"""How long a promotion takes to reach N connected WebSocket subscribers.

    python -m bench.subscription_bench --subscribers 1000 [--rounds 20] [--database-url URL]

Starts the real app under uvicorn in a subprocess (a fresh SQLite file unless
``--database-url`` is given), connects N ``graphql-transport-ws`` clients subscribed to
``promotions``, then records promotions one at a time over HTTP and times each delivery:

* ``commit -> subscriber``: from the event's ``recordedAt`` (the commit, server clock) to
  the message's arrival at the client (same host, same clock);
* ``request -> subscriber``: from sending the mutation to the arrival (includes deciding,
  appending and the projector's read-your-writes catch-up).

Beside it, in the same run, a raw baseline: a bare Starlette WebSocket endpoint under
uvicorn in a subprocess that sends the same JSON message to the same number of clients
when told to over HTTP (no GraphQL, no database, no per-subscriber cursor). The client
side (one asyncio process) is the same for both, so its own cost is in both figures.

Two more modes put the server on core 0 and the clients in ``--processes`` asyncio
processes on core 1 (``taskset``), and raise the open-files limit as needed:

    python -m bench.subscription_bench --mode idle --subscribers 10000 --rounds 5
    python -m bench.subscription_bench --mode burst --subscribers 1000 [--rate 50 --seconds 10]

* ``idle``: N subscriptions held open (the server's RSS before and while holding them),
  then promotions one at a time, commit -> arrival at all N, beside the bare broadcast to
  N clients driven the same way;
* ``burst``: ``rate`` promotions a second for ``seconds`` (different people; a person's
  promotions in order), then a check that every subscriber received every promotion, in
  order, none twice (printed), and the latencies during the burst.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-that-is-long-enough-for-hs256-signing"
LADDER = ["apm", "pm", "senior_pm", "group_pm", "director", "vp_product"]
SUBSCRIPTION = (
    "subscription($after: Int) { promotions(afterPosition: $after) { position recordedAt "
    "personId fromLevelKey toLevelKey effectiveOn } }"
)
PROMOTE = """
mutation($input: RecordPromotionInput!) {
  recordPromotion(input: $input) { position errors { code message } }
}
"""
HIRE = """
mutation($input: HirePersonInput!) {
  hirePerson(input: $input) { personId position errors { code } }
}
"""

BASELINE_APP = """
import asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

clients: set[WebSocket] = set()


async def subscribe(ws: WebSocket) -> None:
    await ws.accept()
    clients.add(ws)
    try:
        while True:
            await ws.receive_text()
    except WebSocketDisconnect:
        clients.discard(ws)


async def broadcast(request: Request) -> JSONResponse:
    text = (await request.body()).decode()
    await asyncio.gather(*(ws.send_text(text) for ws in list(clients)))
    return JSONResponse({"sent": len(clients)})


app = Starlette(
    routes=[WebSocketRoute("/ws", subscribe), Route("/broadcast", broadcast, methods=["POST"])]
)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def token(role: str, subject: str) -> str:
    from api.auth import mint_token

    return mint_token(SECRET, role, subject, timedelta(hours=2))


@asynccontextmanager
async def uvicorn_process(
    app: str,
    env: dict[str, str],
    cwd: Path,
    *,
    factory: bool = False,
    prefix: Sequence[str] = (),
) -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    args = [*prefix, sys.executable, "-m", "uvicorn", app, "--port", str(port)]
    args += ["--log-level", "warning", "--backlog", "4096"]
    args += ["--no-access-log", "--ws-max-queue", "64"]
    if factory:
        args.append("--factory")
    proc = subprocess.Popen(args, cwd=cwd, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                try:
                    await client.get(f"{base}/healthz" if factory else f"{base}/broadcast")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"{app} did not start")
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


async def open_all(
    n: int, opener: Callable[[], Awaitable[ClientConnection]]
) -> list[ClientConnection]:
    sockets: list[ClientConnection] = []
    for start in range(0, n, 100):
        sockets += await asyncio.gather(*(opener() for _ in range(start, min(n, start + 100))))
    return sockets


@dataclass
class Arrivals:
    """Arrival times (wall clock, seconds) of each round's message at each client."""

    times: dict[int, list[float]] = field(default_factory=dict)
    expected: int = 0
    done: dict[int, asyncio.Event] = field(default_factory=dict)

    def event(self, key: int) -> asyncio.Event:
        return self.done.setdefault(key, asyncio.Event())

    def arrived(self, key: int, at: float) -> None:
        got = self.times.setdefault(key, [])
        got.append(at)
        if len(got) == self.expected:
            self.event(key).set()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(name: str, latencies_ms: list[float], rounds_max_ms: list[float]) -> str:
    return (
        f"{name:<40} p50 {percentile(latencies_ms, 50):8.1f} ms   "
        f"p99 {percentile(latencies_ms, 99):8.1f} ms   "
        f"all reached (median of rounds) {statistics.median(rounds_max_ms):8.1f} ms"
    )


# --- our API ----------------------------------------------------------------------------


async def graphql(client: httpx.AsyncClient, query: str, variables: dict[str, Any], hr: str) -> Any:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {hr}"},
    )
    response.raise_for_status()
    return response.json()["data"]


async def subscriber(base: str, hr: str, arrivals: Arrivals, after: int) -> ClientConnection:
    ws = await connect(
        base.replace("http", "ws") + "/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        max_queue=64,
        open_timeout=60,
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {"token": hr}}))
    ack = json.loads(await ws.recv())
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"not acknowledged: {ack}")
    payload = {"query": SUBSCRIPTION, "variables": {"after": after}}
    await ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": payload}))

    async def listen() -> None:
        async for raw in ws:
            now = time.time()
            message = json.loads(raw)
            if message.get("type") != "next":
                print("unexpected", message, file=sys.stderr)
            if message.get("type") == "next":
                event = message["payload"]["data"]["promotions"]
                arrivals.arrived(event["position"], now)
                recorded = datetime.fromisoformat(event["recordedAt"]).timestamp()
                arrivals.times.setdefault(-event["position"], [recorded])

    asyncio.get_running_loop().create_task(listen())
    return ws


async def bench_api(n: int, rounds: int, database_url: str | None) -> tuple[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        env = {
            "LADDER_DATABASE_URL": url,
            "LADDER_TOKEN_SECRET": SECRET,
            "LADDER_ENV": "production",
            # Every client uses the same token: lift the per-subject and per-process caps.
            "LADDER_MAX_WS_CONNECTIONS": str(n + 10),
            "LADDER_MAX_WS_CONNECTIONS_PER_SUBJECT": str(n),
        }
        async with uvicorn_process("api.app:serve_app", env, ROOT, factory=True) as (base, _):
            hr = token("hr", "bench-hr")
            async with httpx.AsyncClient(base_url=base, timeout=120) as client:
                people = []
                after = 0
                for _ in range((rounds + 4) // 5):
                    person = str(uuid.uuid4())
                    data = await graphql(
                        client,
                        HIRE,
                        {
                            "input": {
                                "personId": person,
                                "name": "Bench",
                                "email": f"{person[:8]}@example.com",
                                "track": "product",
                                "level": "apm",
                                "hiredOn": "2005-01-03",
                                "priorYears": 20,
                            }
                        },
                        hr,
                    )
                    people.append(data["hirePerson"]["personId"])
                    after = data["hirePerson"]["position"]
                arrivals = Arrivals(expected=n)
                # Subscribing after the last hire: none can miss a promotion, however late
                # its subscription starts.
                sockets = await open_all(n, lambda: subscriber(base, hr, arrivals, after))
                await asyncio.sleep(1.0)  # let the subscriptions settle into following
                e2e: list[float] = []
                commit: list[float] = []
                e2e_max: list[float] = []
                commit_max: list[float] = []
                today = datetime.now(UTC).date()
                for r in range(rounds):
                    person, step = people[r // 5], r % 5
                    on = today - timedelta(days=100 - step)
                    sent = time.time()
                    data = await graphql(
                        client,
                        PROMOTE,
                        {
                            "input": {
                                "personId": person,
                                "toLevel": LADDER[step + 1],
                                "effectiveOn": on.isoformat(),
                                "rationale": "bench",
                                # A level a day: every step needs an exception now.
                                "experienceException": "bench",
                            }
                        },
                        hr,
                    )
                    payload = data["recordPromotion"]
                    if payload["errors"]:
                        raise RuntimeError(payload["errors"])
                    position = payload["position"]
                    await asyncio.wait_for(arrivals.event(position).wait(), 120)
                    got = arrivals.times[position]
                    recorded = arrivals.times[-position][0]
                    e2e += [(t - sent) * 1000 for t in got]
                    commit += [(t - recorded) * 1000 for t in got]
                    e2e_max.append((max(got) - sent) * 1000)
                    commit_max.append((max(got) - recorded) * 1000)
                for ws in sockets:
                    await ws.close()
    return (
        summary(f"GraphQL promotions, commit -> {n} subs", commit, commit_max),
        summary(f"GraphQL promotions, request -> {n} subs", e2e, e2e_max),
    )


# --- raw baseline -----------------------------------------------------------------------


async def bench_baseline(n: int, rounds: int, message: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "baseline_app.py").write_text(BASELINE_APP)
        async with uvicorn_process("baseline_app:app", {}, Path(tmp)) as (base, _):
            arrivals = Arrivals(expected=n)
            current = {"round": 0}

            async def client() -> ClientConnection:
                ws = await connect(
                    base.replace("http", "ws") + "/ws", max_queue=64, open_timeout=60
                )

                async def listen() -> None:
                    async for _raw in ws:
                        arrivals.arrived(current["round"], time.time())

                asyncio.get_running_loop().create_task(listen())
                return ws

            sockets = await open_all(n, client)
            await asyncio.sleep(1.0)
            latencies: list[float] = []
            maxima: list[float] = []
            async with httpx.AsyncClient(base_url=base, timeout=120) as http:
                for r in range(1, rounds + 1):
                    current["round"] = r
                    sent = time.time()
                    await http.post("/broadcast", content=message)
                    await asyncio.wait_for(arrivals.event(r).wait(), 120)
                    got = arrivals.times[r]
                    latencies += [(t - sent) * 1000 for t in got]
                    maxima.append((max(got) - sent) * 1000)
            for ws in sockets:
                await ws.close()
    return summary(f"bare Starlette broadcast -> {n} clients", latencies, maxima)


SAMPLE_MESSAGE = json.dumps(
    {
        "id": "1",
        "type": "next",
        "payload": {
            "data": {
                "promotions": {
                    "position": 123,
                    "recordedAt": "2026-01-01T00:00:00+00:00",
                    "personId": "UGVyc29uOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA==",
                    "fromLevelKey": "pm",
                    "toLevelKey": "senior_pm",
                    "effectiveOn": date(2026, 1, 1).isoformat(),
                }
            }
        },
    }
)


# --- many subscribers: client processes on the other core -------------------------------

WORKER_BATCH = 50
"""Connections a client process opens at once (the server must answer each init in 10 s)."""


async def worker(args: argparse.Namespace) -> None:
    """A client process: ``--count`` connections (GraphQL subscriptions or bare sockets)
    that record each message's arrival; driven by the coordinator over stdin/stdout."""
    import orjson

    graphql_kind = args.kind == "graphql"
    count = args.count
    received: list[list[int]] = [[] for _ in range(count)]
    times: dict[int, list[float]] = {}
    recorded: dict[int, float] = {}
    compression = None if args.compression == "none" else "deflate"

    async def open_one() -> ClientConnection:
        ws = await connect(
            args.url,
            subprotocols=["graphql-transport-ws"] if graphql_kind else None,  # type: ignore[list-item]
            max_queue=None,
            open_timeout=300,
            ping_interval=None,
            compression=compression,
        )
        if graphql_kind:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"token": args.token}}))
            ack = json.loads(await ws.recv())
            if ack.get("type") != "connection_ack":
                raise RuntimeError(f"not acknowledged: {ack}")
            payload = {"query": SUBSCRIPTION, "variables": {"after": args.after}}
            await ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": payload}))
        return ws

    async def listen(index: int, ws: ClientConnection) -> None:
        mine = received[index]
        async for raw in ws:
            now = time.time()
            message = orjson.loads(raw)
            if graphql_kind:
                if message.get("type") != "next":
                    print(f"unexpected {raw!r}", file=sys.stderr)
                    continue
                message = message["payload"]["data"]["promotions"]
            position = message["position"]
            mine.append(position)
            got = times.setdefault(position, [])
            got.append(now)
            if position not in recorded:
                recorded[position] = datetime.fromisoformat(message["recordedAt"]).timestamp()
            if len(got) == count:
                print(f"got {position}", flush=True)

    sockets: list[ClientConnection] = []
    for start in range(0, count, WORKER_BATCH):
        size = min(count, start + WORKER_BATCH) - start
        sockets += await asyncio.gather(*(open_one() for _ in range(size)))
    loop = asyncio.get_running_loop()
    listeners = [loop.create_task(listen(i, ws)) for i, ws in enumerate(sockets)]
    print("ready", flush=True)
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if line == "report":
            latencies = [(t - recorded[p]) * 1000 for p, arrived in times.items() for t in arrived]
            maxima = {p: (max(a) - recorded[p]) * 1000 for p, a in times.items()}
            print(json.dumps({"latencies": latencies, "maxima": maxima}), flush=True)
        elif line.startswith("check "):
            expected = json.loads(line[6:])
            exact = sum(1 for got in received if got == expected)
            twice = sum(1 for got in received if len(set(got)) != len(got))
            unordered = sum(1 for got in received if got != sorted(got))
            missing = sum(1 for got in received if set(expected) - set(got))
            print(
                json.dumps(
                    {"exact": exact, "twice": twice, "unordered": unordered, "missing": missing}
                ),
                flush=True,
            )
        else:
            break
    for task in listeners:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def pinned(core: int) -> list[str]:
    """``taskset -c core`` when the machine has that core (server and clients apart)."""
    if os.cpu_count() and os.cpu_count() > core and shutil.which("taskset"):  # type: ignore[operator]
        return ["taskset", "-c", str(core)]
    return []


class Workers:
    """Client processes on core 1, ``count`` connections in all."""

    def __init__(self, url: str, kind: str, count: int, processes: int, extra: list[str]) -> None:
        self.procs: list[asyncio.subprocess.Process] = []
        self.args = (url, kind, count, processes, extra)
        self.got: dict[int, int] = {}
        self.changed = asyncio.Event()
        self.replies: asyncio.Queue[str] = asyncio.Queue()

    async def start(self) -> None:
        url, kind, count, processes, extra = self.args
        share = [count // processes + (1 if i < count % processes else 0) for i in range(processes)]
        for n in share:
            proc = await asyncio.create_subprocess_exec(
                *pinned(1),
                sys.executable,
                __file__,
                "--worker",
                "--url",
                url,
                "--kind",
                kind,
                "--count",
                str(n),
                *extra,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                limit=2**30,
            )
            self.procs.append(proc)
        ready = 0
        for proc in self.procs:
            asyncio.get_running_loop().create_task(self._read(proc))
        while ready < len(self.procs):
            line = await asyncio.wait_for(self.replies.get(), 900)
            if line == "ready":
                ready += 1
            elif line == "exited":
                raise RuntimeError("a client process failed")

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            line = raw.decode().strip()
            if line.startswith("got "):
                position = int(line[4:])
                self.got[position] = self.got.get(position, 0) + 1
                self.changed.set()
            else:
                await self.replies.put(line)
        await self.replies.put("exited")

    async def reached_all(self, positions: list[int], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while any(self.got.get(p, 0) < len(self.procs) for p in positions):
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(0.01, deadline - time.monotonic()))

    async def ask(self, command: str) -> list[dict[str, Any]]:
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(f"{command}\n".encode())
            await proc.stdin.drain()
        return [json.loads(await self.replies.get()) for _ in self.procs]

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.stdin is not None and not proc.stdin.is_closing():
                proc.stdin.write(b"quit\n")
                with contextlib.suppress(ConnectionError):
                    await proc.stdin.drain()
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 60)
            except TimeoutError:
                proc.kill()


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` (and its children: uvicorn may run under taskset)."""
    total = 0.0
    for candidate in [pid, *children(pid)]:
        with contextlib.suppress(OSError), open(f"/proc/{candidate}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
    return total


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as found:
            return [int(c) for c in found.read().split()]
    except OSError:
        return []


async def latency_report(workers: Workers, name: str) -> str:
    reports = await workers.ask("report")
    latencies = [x for r in reports for x in r["latencies"]]
    maxima: dict[str, float] = {}
    for r in reports:
        for p, m in r["maxima"].items():
            maxima[p] = max(maxima.get(p, 0.0), m)
    return summary(name, latencies, list(maxima.values()))


async def promote_person(
    client: httpx.AsyncClient, hr: str, person: str, step: int, on: date
) -> int:
    data = await graphql(
        client,
        PROMOTE,
        {
            "input": {
                "personId": person,
                "toLevel": LADDER[step + 1],
                "effectiveOn": on.isoformat(),
                "rationale": "bench",
                "experienceException": "bench",
            }
        },
        hr,
    )
    payload = data["recordPromotion"]
    if payload["errors"]:
        raise RuntimeError(payload["errors"])
    position: int = payload["position"]
    return position


async def hire_people(client: httpx.AsyncClient, hr: str, count: int) -> tuple[list[str], int]:
    people: list[str] = []
    after = 0
    for _ in range(count):
        person = str(uuid.uuid4())
        data = await graphql(
            client,
            HIRE,
            {
                "input": {
                    "personId": person,
                    "name": "Bench",
                    "email": f"{person[:8]}@example.com",
                    "track": "product",
                    "level": "apm",
                    "hiredOn": "2005-01-03",
                    "priorYears": 20,
                }
            },
            hr,
        )
        people.append(data["hirePerson"]["personId"])
        after = data["hirePerson"]["position"]
    return people, after


@asynccontextmanager
async def api_server(
    n: int, database_url: str | None
) -> AsyncIterator[tuple[str, httpx.AsyncClient, str, int]]:
    """The real app under uvicorn on core 0: its URL, an HTTP client, an HR token, its pid."""
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        env = {
            "LADDER_DATABASE_URL": url,
            "LADDER_TOKEN_SECRET": SECRET,
            "LADDER_ENV": "production",
            "LADDER_MAX_WS_CONNECTIONS": str(n + 10),
            "LADDER_MAX_WS_CONNECTIONS_PER_SUBJECT": str(n),
        }
        async with (
            uvicorn_process("api.app:serve_app", env, ROOT, factory=True, prefix=pinned(0)) as (
                base,
                pid,
            ),
            httpx.AsyncClient(base_url=base, timeout=120) as client,
        ):
            yield base, client, token("hr", "bench-hr"), pid


async def bench_idle(args: argparse.Namespace) -> None:
    n = args.subscribers
    extra = ["--compression", args.compression]
    async with api_server(n, args.database_url) as (base, client, hr, pid):
        people, after = await hire_people(client, hr, (args.rounds + 4) // 5)
        idle_rss = rss_mb(pid)
        workers = Workers(
            base.replace("http", "ws") + "/graphql",
            "graphql",
            n,
            args.processes,
            [*extra, "--token", hr, "--after", str(after)],
        )
        began = time.monotonic()
        await workers.start()
        opened = time.monotonic() - began
        await asyncio.sleep(2.0)
        held_rss = rss_mb(pid)
        today = datetime.now(UTC).date()
        for r in range(args.rounds):
            on = today - timedelta(days=100 - r % 5)
            position = await promote_person(client, hr, people[r // 5], r % 5, on)
            await workers.reached_all([position], 300)
        print(f"server RSS: {idle_rss:.0f} MB before, {held_rss:.0f} MB holding {n} subscriptions")
        print(f"{n} subscriptions opened in {opened:.1f} s by {args.processes} client processes")
        print(await latency_report(workers, f"GraphQL promotions, commit -> {n} subs"))
        await workers.stop()
    print(await bench_broadcast_workers(args))


async def bench_broadcast_workers(args: argparse.Namespace) -> str:
    n = args.subscribers
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "baseline_app.py").write_text(BASELINE_APP)
        async with uvicorn_process("baseline_app:app", {}, Path(tmp), prefix=pinned(0)) as (
            base,
            _pid,
        ):
            workers = Workers(
                base.replace("http", "ws") + "/ws",
                "raw",
                n,
                args.processes,
                ["--compression", args.compression],
            )
            await workers.start()
            await asyncio.sleep(2.0)
            async with httpx.AsyncClient(base_url=base, timeout=300) as http:
                for r in range(1, args.rounds + 1):
                    message = {"position": r, "recordedAt": datetime.now(UTC).isoformat()}
                    await http.post("/broadcast", content=json.dumps(message))
                    await workers.reached_all([r], 300)
            report = await latency_report(workers, f"bare Starlette broadcast -> {n} clients")
            await workers.stop()
    return report


async def bench_burst(args: argparse.Namespace) -> None:
    n, rate, seconds = args.subscribers, args.rate, args.seconds
    total = rate * seconds
    steps = len(LADDER) - 1
    extra = ["--compression", args.compression]
    async with api_server(n, args.database_url) as (base, client, hr, pid):
        people, after = await hire_people(client, hr, -(-total // steps))
        workers = Workers(
            base.replace("http", "ws") + "/graphql",
            "graphql",
            n,
            args.processes,
            [*extra, "--token", hr, "--after", str(after)],
        )
        await workers.start()
        await asyncio.sleep(2.0)
        today = datetime.now(UTC).date()
        rounds = len(people)
        began = time.monotonic()
        tasks: list[asyncio.Task[int]] = []
        late = 0.0
        chains: dict[int, asyncio.Task[int]] = {}

        async def after_previous(previous: asyncio.Task[int] | None, i: int) -> int:
            if previous is not None:
                await previous  # a person's promotions in order
            person, step = i % rounds, i // rounds
            on = today - timedelta(days=100 - step)
            return await promote_person(client, hr, people[person], step, on)

        for i in range(total):
            at = began + i / rate
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                late = max(late, -delay)
            task = asyncio.create_task(after_previous(chains.get(i % rounds), i))
            chains[i % rounds] = task
            tasks.append(task)
        positions = sorted(await asyncio.gather(*tasks))
        sent_in = time.monotonic() - began
        await workers.reached_all(positions, 300)
        drained = time.monotonic() - began
        checks = await workers.ask("check " + json.dumps(positions))
        print(
            f"burst: {total} promotions at {rate}/s requested, sent in {sent_in:.1f} s "
            f"(latest send {late * 1000:.0f} ms behind schedule), all delivered "
            f"{drained:.1f} s after the first; server RSS {rss_mb(pid):.0f} MB"
        )
        exact = sum(c["exact"] for c in checks)
        print(
            f"check: {exact} of {n} subscribers received all {total} promotions exactly once, "
            f"in order; out of order {sum(c['unordered'] for c in checks)}, "
            f"twice {sum(c['twice'] for c in checks)}, missing {sum(c['missing'] for c in checks)}"
        )
        print(await latency_report(workers, f"GraphQL promotions, commit -> {n} subs"))
        await workers.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["latency", "idle", "burst"], default="latency")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--processes", type=int, default=4, help="client processes (idle, burst)")
    parser.add_argument("--compression", choices=["deflate", "none"], default="deflate")
    parser.add_argument("--rate", type=int, default=50, help="burst: promotions per second")
    parser.add_argument("--seconds", type=int, default=10, help="burst: how long")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--kind", default="graphql", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--token", default="", help=argparse.SUPPRESS)
    parser.add_argument("--after", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        await worker(args)
        return
    raise_file_limit(2 * args.subscribers + 1000)
    if args.mode == "idle":
        print(f"{args.subscribers} open subscriptions, {args.rounds} promotions, one at a time")
        await bench_idle(args)
        return
    if args.mode == "burst":
        print(f"{args.subscribers} subscribers, {args.rate} promotions/s for {args.seconds} s")
        await bench_burst(args)
        return
    print(f"{args.subscribers} subscribers, {args.rounds} promotions, one at a time")
    baseline = await bench_baseline(args.subscribers, args.rounds, SAMPLE_MESSAGE)
    commit, request = await bench_api(args.subscribers, args.rounds, args.database_url)
    print(commit)
    print(request)
    print(baseline)


def raise_file_limit(wanted: int) -> None:
    """Lift the soft limit on open files (``ulimit -n``) as far as needed and allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


if __name__ == "__main__":
    asyncio.run(main())
