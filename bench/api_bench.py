"""GraphQL read benchmark: our ``/graphql`` beside a bare Starlette endpoint, same process.

Run: ``python bench/api_bench.py`` (``--help`` for sizes). It generates an org into a fresh
SQLite file (``bench/generate.py``), starts ONE uvicorn process serving the real app
(bootstrapped by its lifespan) with two bare routes added beside ``/graphql``; the bare
routes check the same bearer token, run the same read-model queries and return the same
JSON (checked before measuring). Then, over HTTP with an ``httpx`` client at a fixed
concurrency, it measures requests/s and p50/p99 latency for

* ``person(id) { ... careerHistory { ... } }`` (a people row, the ladder, the person's
  stream replayed from the log), and
* ``people(first: 50) { edges { cursor node { ... level { title } } } pageInfo { ... } }``,

and prints the GraphQL/bare throughput ratio for each (target >= 0.4).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.app import create_app
from api.auth import Role, decode_token, mint_token, token_from_authorization
from api.services import RuntimeServices
from api.settings import Settings
from api.types.connection import encode_cursor
from events.readmodels.api_queries import PeopleFilter

SECRET = "bench-secret-that-is-long-enough-for-hs256"

PERSON_QUERY = """query($id: ID!) { person(id: $id) {
  personId name track levelKey level { title }
  careerHistory { levelKey status levelChanges { kind effectiveOn levelKey }
                  events { type effectiveOn position recordedAt } }
} }"""
PEOPLE_QUERY = """{ people(first: 50) {
  edges { cursor node { personId name levelKey status level { title } } }
  pageInfo { hasNextPage endCursor }
} }"""


# -- the server process -----------------------------------------------------------------


def _bare_routes(holder: list[RuntimeServices]) -> list[Any]:
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    def services() -> RuntimeServices:
        return holder[0]

    def authorize(request: Request) -> None:
        principal = decode_token(
            SECRET, token_from_authorization(request.headers.get("authorization"))
        )
        if principal is None or not principal.can_read_everything:
            raise PermissionError("hr or auditor only")

    async def title(track: str, key: str) -> dict[str, str] | None:
        ladder = (await services().queries.ladders_batch([track]))[0]
        if ladder is None or not ladder.has_level(key):
            return None
        return {"title": ladder.level(key).title}

    async def person(request: Request) -> JSONResponse:
        authorize(request)
        person_id = request.path_params["person_id"]
        queries = services().queries
        row = (await queries.people_batch([person_id]))[0]
        if row is None:
            return JSONResponse({"data": {"person": None}})
        view = await queries.career_history(person_id, as_of=None, known_at=None)
        if view is None:
            return JSONResponse({"data": None}, status_code=404)
        career = view.career
        return JSONResponse(
            {
                "data": {
                    "person": {
                        "personId": row.person_id,
                        "name": row.name,
                        "track": row.track,
                        "levelKey": row.level,
                        "level": await title(row.track, row.level),
                        "careerHistory": {
                            "levelKey": career.level,
                            "status": career.status,
                            "levelChanges": [
                                {
                                    "kind": c.kind,
                                    "effectiveOn": c.effective_on.isoformat(),
                                    "levelKey": c.level,
                                }
                                for c in career.history
                            ],
                            "events": [
                                {
                                    "type": f.type,
                                    "effectiveOn": f.effective_on.isoformat(),
                                    "position": f.position,
                                    "recordedAt": f.recorded_at.isoformat(),
                                }
                                for f in view.facts
                            ],
                        },
                    }
                }
            }
        )

    async def people(request: Request) -> JSONResponse:
        authorize(request)
        queries = services().queries
        rows = [e.person for e in await queries.list_people(PeopleFilter(), limit=51, after=None)]
        page = rows[:50]
        tracks = sorted({r.track for r in page})
        ladders = dict(zip(tracks, await queries.ladders_batch(tracks), strict=True))
        edges = []
        for r in page:
            ladder = ladders.get(r.track)
            level = None
            if ladder is not None and ladder.has_level(r.level):
                level = {"title": ladder.level(r.level).title}
            edges.append(
                {
                    "cursor": encode_cursor("people", [r.name, r.person_id]),
                    "node": {
                        "personId": r.person_id,
                        "name": r.name,
                        "levelKey": r.level,
                        "status": r.status.upper(),
                        "level": level,
                    },
                }
            )
        return JSONResponse(
            {
                "data": {
                    "people": {
                        "edges": edges,
                        "pageInfo": {
                            "hasNextPage": len(rows) > 50,
                            "endCursor": edges[-1]["cursor"] if edges else None,
                        },
                    }
                }
            }
        )

    return [Route("/bare/person/{person_id}", person), Route("/bare/people", people)]


def serve(url: str, port: int) -> None:
    import uvicorn

    from events.bootstrap import bootstrap

    holder: list[RuntimeServices] = []

    @asynccontextmanager
    async def boot(settings: Settings) -> AsyncIterator[RuntimeServices]:
        runtime = await bootstrap(settings.database_url, listen=False)
        holder.append(RuntimeServices(runtime))
        try:
            yield holder[0]
        finally:
            await runtime.close()

    settings = Settings(_env_file=None, database_url=url, token_secret=SECRET, env="production")
    app = create_app(settings, bootstrap=boot)
    for route in _bare_routes(holder):
        app.router.routes.append(route)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- the load ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


Send = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


async def measure(base: str, send: Send, requests: int, concurrency: int) -> Figures:
    latencies: list[float] = []
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker() -> None:
            for i in counter:
                t0 = time.perf_counter()
                response = await send(client, i)
                latencies.append(time.perf_counter() - t0)
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code}: {response.text[:300]}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return Figures(
        requests=requests,
        seconds=elapsed,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[int(len(latencies) * 0.99) - 1] * 1000,
    )


def _wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server process exited")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not become ready")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def run(base: str, ids: list[str], requests: int, concurrency: int) -> None:
    token = mint_token(SECRET, Role.HR, "bench", timedelta(hours=2))
    headers = {"authorization": f"Bearer {token}", "accept": "application/json"}

    def pick(i: int) -> str:
        return ids[i % len(ids)]

    async def gql_person(client: httpx.AsyncClient, i: int) -> httpx.Response:
        body = {"query": PERSON_QUERY, "variables": {"id": pick(i)}}
        return await client.post("/graphql", json=body, headers=headers)

    async def bare_person(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.get(f"/bare/person/{pick(i)}", headers=headers)

    async def gql_people(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.post("/graphql", json={"query": PEOPLE_QUERY}, headers=headers)

    async def bare_people(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.get("/bare/people", headers=headers)

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for gql, bare in ((gql_person, bare_person), (gql_people, bare_people)):
            for i in range(5):
                a, b = (await gql(client, i)).json(), (await bare(client, i)).json()
                if a != b:
                    raise RuntimeError(f"the JSON differs:\n{a}\n{b}")
    print("same JSON from /graphql and the bare endpoints: checked")
    print(f"{requests} requests per run, concurrency {concurrency}, one uvicorn worker\n")
    print(f"{'scenario':<28}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for name, gql, bare in (
        ("person { careerHistory }", gql_person, bare_person),
        ("people(first: 50)", gql_people, bare_people),
    ):
        await measure(base, gql, max(requests // 10, 50), concurrency)  # warm up
        await measure(base, bare, max(requests // 10, 50), concurrency)
        ours = await measure(base, gql, requests, concurrency)
        raw = await measure(base, bare, requests, concurrency)
        for label, f in (("graphql", ours), ("bare", raw)):
            print(f"{name + ' ' + label:<28}{f.rps:>9.0f}{f.p50_ms:>9.1f}{f.p99_ms:>9.1f}")
        print(f"{name + ' ratio':<28}{ours.rps / raw.rps:>9.2f}  (target >= 0.4)\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="postgres uses a fresh schema on TEST_POSTGRES_URL (dropped afterwards)",
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port)
        return

    from bench.generate import generate

    with tempfile.TemporaryDirectory() as tmp, _database(args.backend, tmp) as url:
        events, _, appending = asyncio.run(generate(url, args.people))
        print(
            f"org on {args.backend}: {args.people} people, {events} events "
            f"(appended in {appending:.1f}s)"
        )
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        process = subprocess.Popen(
            [sys.executable, __file__, "--serve", url, "--port", str(port)], env=env
        )
        try:
            _wait_ready(base, process)
            ids = asyncio.run(_person_ids(url))
            random.Random(7).shuffle(ids)
            asyncio.run(run(base, ids[:500], args.requests, args.concurrency))
        finally:
            process.terminate()
            process.wait(30)


@contextmanager
def _database(backend: str, directory: str) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{Path(directory) / 'org.db'}"
        return
    from tests.support import create_pg_schema, drop_pg_schema, pg_schema_url

    schema = create_pg_schema("bench")
    try:
        yield pg_schema_url(schema)
    finally:
        drop_pg_schema(schema)


async def _person_ids(url: str) -> list[str]:
    from events.db import create_engine
    from events.readmodels.tables import people

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return [r[0] for r in await conn.execute(sa.select(people.c.person_id))]
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
