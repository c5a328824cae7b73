"""CPU time per served request, in process: the app of ``api/app.py`` behind httpx's
ASGI transport (no sockets, no load generator), so the figure is the Python a request
costs, steady across the noise of a shared machine.

Run: ``python -m bench.request_cpu`` (``--requests 400``, ``--only people``,
``--profile people`` prints the top of a cProfile of that query instead). The org is the
one ``bench.http_bench`` serves (``bench/.data``, SQLite, 2,000 people by default). The
figures include the client's own work (httpx builds the request and reads the answer)
and the reader threads' (``process_time`` counts every thread): ``floor`` is what a
``GET /healthz`` costs through the same client and middlewares, for scale.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import shutil
import time
from pathlib import Path

import httpx

from api.app import create_app
from api.services import runtime_services
from api.settings import Settings
from bench.http_bench import PEOPLE, PERSON, SECRET, org, sample_ids, token

QUERIES = {"people": PEOPLE, "person": PERSON, "floor": ""}


async def _serve(url: str, names: list[str], requests: int, profile: bool) -> None:
    settings = Settings(_env_file=None, database_url=url, token_secret=SECRET)
    app = create_app(settings, bootstrap=runtime_services)
    headers = {"authorization": f"Bearer {token('bench')}"}
    async with app.router.lifespan_context(app):  # catches the read models up
        ids = await asyncio.to_thread(sample_ids, url, 50)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def ask(name: str, i: int) -> None:
                if name == "floor":
                    if (await client.get("/healthz")).status_code != 200:
                        raise RuntimeError("/healthz did not answer")
                    return
                body: dict[str, object] = {"query": QUERIES[name]}
                if name == "person":
                    body["variables"] = {"id": ids[i % len(ids)]}
                answer = await client.post("/graphql", json=body, headers=headers)
                if answer.status_code != 200 or "errors" in answer.json():
                    raise RuntimeError(answer.text[:500])

            for name in names:
                for i in range(20):  # warm the caches (parse, validation, plans, ladders)
                    await ask(name, i)
                if profile:
                    profiler = cProfile.Profile()
                    profiler.enable()
                    for i in range(requests):
                        await ask(name, i)
                    profiler.disable()
                    pstats.Stats(profiler).sort_stats("tottime").print_stats(60)
                    continue
                start = time.process_time()
                for i in range(requests):
                    await ask(name, i)
                per = (time.process_time() - start) / requests
                print(f"{name:<8} {per * 1000:7.3f} ms CPU per request ({requests} requests)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--only", choices=sorted(QUERIES))
    parser.add_argument("--profile", choices=sorted(QUERIES))
    args = parser.parse_args()
    names = [args.profile or args.only] if (args.profile or args.only) else list(QUERIES)
    url = org("sqlite", args.people)  # a copy of the cached org, removed at the end
    try:
        asyncio.run(_serve(url, names, args.requests, bool(args.profile)))
    finally:
        shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent)


if __name__ == "__main__":
    main()
