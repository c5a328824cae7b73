"""How long a promotion takes to reach N connected WebSocket subscribers.

    python bench/subscription_bench.py --subscribers 1000 [--rounds 20] [--database-url URL]

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
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
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
    sys.path.insert(0, str(ROOT))
    from api.auth import mint_token

    return mint_token(SECRET, role, subject, timedelta(hours=2))


@asynccontextmanager
async def uvicorn_process(
    app: str, env: dict[str, str], cwd: Path, *, factory: bool = False
) -> AsyncIterator[str]:
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--log-level", "warning"]
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
        yield base
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
        async with uvicorn_process("api.app:serve_app", env, ROOT, factory=True) as base:
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
        async with uvicorn_process("baseline_app:app", {}, Path(tmp)) as base:
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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    print(f"{args.subscribers} subscribers, {args.rounds} promotions, one at a time")
    baseline = await bench_baseline(args.subscribers, args.rounds, SAMPLE_MESSAGE)
    commit, request = await bench_api(args.subscribers, args.rounds, args.database_url)
    print(commit)
    print(request)
    print(baseline)


if __name__ == "__main__":
    asyncio.run(main())
