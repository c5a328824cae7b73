"""CPU per write command, in process: the service alone, and the served app.

Run: ``python -m bench.write_cpu_bench`` (``--backend postgres``, ``--people 2000``,
``--commands 500``, ``--clients 8``, ``--profile out.prof``). On a generated org
(``bench/generate.py``; SQLite cached in ``bench/.data``) it runs a burst of
``--commands`` ``hirePerson`` and then as many ``recordPromotion`` (each promoting one of
those hires), ``--clients`` at a time, twice:

* ``service``: ``CareerService.execute`` called directly (no HTTP, no GraphQL);
* ``served``: the same commands as GraphQL requests to the app of ``api/app.py``, driven
  as ASGI calls in this process (no sockets, no HTTP client: what is counted is the app).

It prints the CPU time (``time.process_time``: every thread of the process, the SQLite
writer and readers included) per command, and the commands per CPU second; the
difference between the two modes is the API's share. ``--profile`` writes a cProfile of
the bursts (of one mode with ``--only``; ``python -m pstats``; the event loop's thread
only) and prints its top functions.

Unlike ``bench/http_bench.py`` (wall-clock rates over real HTTP against the raw durable
append), this isolates CPU cost per command, which is what a single-core server's rate
is made of; unlike ``bench/store_bench.py`` it runs whole commands, not raw appends.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

from api.app import create_app
from api.auth import Role, mint_token
from api.services import runtime_services
from api.settings import Settings
from bench.generate import cached
from bench.pg import create_schema, drop_schema, pg_schema_url
from domain.commands import HirePerson, RecordPromotion
from events.bootstrap import bootstrap
from events.port import Metadata

DATA = Path(__file__).resolve().parent / ".data"
SECRET = "bench-secret-that-is-long-enough-for-hs256-0123"
HIRE = "mutation($i: HirePersonInput!) { hirePerson(input: $i) { position errors { code } } }"
PROMOTE = (
    "mutation($i: RecordPromotionInput!) "
    "{ recordPromotion(input: $i) { position errors { code } } }"
)
ACTOR = Metadata(actor_id="hr-bench", actor_role="hr")
HIRED_ON = date(2000, 1, 3)
PROMOTED_ON = date(2004, 1, 5)


def hire(person: uuid.UUID) -> HirePerson:
    return HirePerson(
        person_id=person,
        name=f"Bench {person.hex[:8]}",
        email=f"bench.{person.hex}@example.com",
        track="product",
        level="apm",
        hired_on=HIRED_ON,
    )


def promote(person: uuid.UUID) -> RecordPromotion:
    return RecordPromotion(
        person_id=person, to_level="pm", effective_on=PROMOTED_ON, rationale="bench"
    )


def hire_body(person: uuid.UUID) -> bytes:
    c = hire(person)
    variables = {
        "name": c.name,
        "email": c.email,
        "track": c.track,
        "level": c.level,
        "hiredOn": c.hired_on.isoformat(),
        "personId": str(person),
    }
    return orjson.dumps({"query": HIRE, "variables": {"i": variables}})


def promote_body(person: uuid.UUID) -> bytes:
    c = promote(person)
    variables = {
        "personId": str(person),
        "toLevel": c.to_level,
        "effectiveOn": c.effective_on.isoformat(),
        "rationale": c.rationale,
    }
    return orjson.dumps({"query": PROMOTE, "variables": {"i": variables}})


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) so far of each thread of this process, summed by thread
    name without its number (``/proc``; empty elsewhere)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").glob("*"):
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        name = names.get(int(task.name), "other").rstrip("_0123456789")
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


SPLIT: dict[str, float] = {}
"""CPU seconds per thread name over every burst (``thread_cpu``)."""


async def burst(
    items: Sequence[uuid.UUID], clients: int, run: Callable[[uuid.UUID], Awaitable[None]]
) -> float:
    """Run ``run`` on every item, ``clients`` at a time; the CPU seconds it took."""
    queue = list(reversed(items))

    async def client() -> None:
        while queue:
            await run(queue.pop())

    threads = thread_cpu()
    start = time.process_time()
    await asyncio.gather(*(client() for _ in range(clients)))
    spent = time.process_time() - start
    for name, cpu in thread_cpu().items():
        SPLIT[name] = SPLIT.get(name, 0.0) + cpu - threads.get(name, 0.0)
    return spent


class Asgi:
    """GraphQL POSTs as direct ASGI calls (no socket, no HTTP client in the count)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        token = mint_token(SECRET, Role.HR, "hr-bench", timedelta(hours=4))
        self.headers = [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"accept", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
        ]

    async def post(self, body: bytes) -> dict[str, Any]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [*self.headers, (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 1),
            "server": ("bench", 80),
        }
        sent = False
        chunks: list[bytes] = []
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        answer: dict[str, Any] = orjson.loads(b"".join(chunks))
        if status != 200 or answer.get("errors"):
            raise RuntimeError(f"refused ({status}): {answer}")
        data = next(iter(answer["data"].values()))
        if data["errors"]:
            raise RuntimeError(f"refused: {data['errors']}")
        return answer


async def service_run(
    url: str, n: int, clients: int, profile: cProfile.Profile | None
) -> tuple[float, float]:
    runtime = await bootstrap(url)
    try:
        service = runtime.service
        people = [uuid.uuid4() for _ in range(n)]

        async def hire_one(p: uuid.UUID) -> None:
            await service.execute(hire(p), metadata=ACTOR)

        async def promote_one(p: uuid.UUID) -> None:
            await service.execute(promote(p), metadata=ACTOR)

        warm = uuid.uuid4()  # caches, statements, threads
        await hire_one(warm)
        await promote_one(warm)
        return await profiled(profile, people, clients, hire_one, promote_one)
    finally:
        await runtime.store.close()
        await runtime.close()


async def served_run(
    url: str, n: int, clients: int, profile: cProfile.Profile | None
) -> tuple[float, float]:
    settings = Settings(_env_file=None, database_url=url, token_secret=SECRET)
    app = create_app(settings, bootstrap=runtime_services)
    asgi = Asgi(app)
    async with app.router.lifespan_context(app):
        people = [uuid.uuid4() for _ in range(n)]

        async def hire_one(p: uuid.UUID) -> None:
            await asgi.post(hire_body(p))

        async def promote_one(p: uuid.UUID) -> None:
            await asgi.post(promote_body(p))

        for _ in range(3):  # warm: the document caches, statements, threads
            await hire_one(uuid.uuid4())
        warm = uuid.uuid4()
        await hire_one(warm)
        await promote_one(warm)
        return await profiled(profile, people, clients, hire_one, promote_one)


async def profiled(
    profile: cProfile.Profile | None,
    people: Sequence[uuid.UUID],
    clients: int,
    hire_one: Callable[[uuid.UUID], Awaitable[None]],
    promote_one: Callable[[uuid.UUID], Awaitable[None]],
) -> tuple[float, float]:
    """The CPU seconds of the hires, then of the promotions, under ``profile`` if given."""
    if profile is not None:
        profile.enable()
    try:
        return await burst(people, clients, hire_one), await burst(people, clients, promote_one)
    finally:
        if profile is not None:
            profile.disable()


async def database(backend: str, people: int) -> tuple[str, Callable[[], Awaitable[None]]]:
    """A fresh database holding the org of ``people``, and how to remove it."""
    if backend == "sqlite":
        org = await cached(people, DATA)
        folder = Path(tempfile.mkdtemp(prefix="write-cpu-"))
        shutil.copy(org, folder / "org.db")

        async def remove_file() -> None:
            shutil.rmtree(folder, ignore_errors=True)

        return f"sqlite:///{folder / 'org.db'}", remove_file
    from bench.generate import generate

    schema = await create_schema("bench_wcpu")
    url = pg_schema_url(schema)
    await generate(url, people)

    async def remove_schema() -> None:
        await drop_schema(schema)

    return url, remove_schema


def line(name: str, cpu: float, n: int) -> str:
    return f"| {name} | {cpu / n * 1000:.2f} | {n / cpu:,.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--commands", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--only", choices=["service", "served"], default=None)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the bursts")
    args = parser.parse_args()
    os.environ.setdefault("LADDER_TOKEN_SECRET", SECRET)
    n, clients = args.commands, args.clients
    rows: list[str] = []
    # CPU time of the loop's thread (time.thread_time), not wall time spent waiting in epoll.
    profile = cProfile.Profile(time.thread_time) if args.profile is not None else None
    for mode in ("service", "served"):
        if args.only not in (None, mode):
            continue

        async def one(mode: str = mode) -> tuple[float, float]:
            url, remove = await database(args.backend, args.people)
            try:
                if mode == "service":
                    return await service_run(url, n, clients, profile)
                return await served_run(url, n, clients, profile)
            finally:
                await remove()

        hires, promotions = asyncio.run(one())
        rows.append(line(f"hirePerson, {mode}", hires, n))
        rows.append(line(f"recordPromotion, {mode}", promotions, n))
    print(
        f"\n{args.backend}, {args.people:,} people, {n} commands of each kind, "
        f"{clients} clients, CPU time of the whole process\n"
    )
    print("| command | CPU ms per command | commands per CPU second |")
    print("|---|---:|---:|")
    print("\n".join(rows))
    total = sum(SPLIT.values()) or 1.0
    split = sorted(SPLIT.items(), key=lambda kv: -kv[1])
    shares = ", ".join(f"{name} {cpu / total:.0%}" for name, cpu in split if cpu > 0)
    print(f"\nCPU by thread over all the bursts (/proc, 10 ms ticks): {shares}")
    if profile is not None:
        profile.dump_stats(str(args.profile))
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumtime").print_stats(40)


if __name__ == "__main__":
    main()
