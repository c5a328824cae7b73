"""The served app plus hand-written "bare" routes answering the same questions, for
``bench/http_bench.py``. Run by the benchmark (pinned to one core), not by hand.

The bare routes are what an engineer would write by hand for one question: the token
check, a couple of ``sqlite3`` (or ``asyncpg``) statements, JSON out. They use none of
the project's query code.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
from typing import Any

import orjson
import uvicorn
from sqlalchemy.engine import make_url
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.app import create_app
from api.auth import decode_token, token_from_authorization
from api.services import runtime_services
from api.settings import Settings
from events.db import normalize_url


class Bare:
    """Hand-written answers: ``person`` (row, level title, career events) and ``people``."""

    def __init__(self, url: str, secret: str) -> None:
        self.secret = secret
        parsed = make_url(normalize_url(url))
        self.sqlite = parsed.get_backend_name() == "sqlite"
        self.url = url
        self.conn: sqlite3.Connection | None = None
        self.pool: Any = None
        self.titles: dict[tuple[str, str], str] = {}
        if self.sqlite:
            self.conn = sqlite3.connect(parsed.database or "", check_same_thread=False)

    async def start(self) -> None:
        if not self.sqlite:
            import asyncpg

            parsed = make_url(normalize_url(self.url))
            options = parsed.query.get("options")
            schema = str(options).split("=")[-1] if options else None
            self.pool = await asyncpg.create_pool(
                host=parsed.host,
                port=parsed.port,
                user=parsed.username,
                database=parsed.database,
                server_settings={"search_path": schema} if schema else {},
                min_size=4,
                max_size=8,
            )

    async def rows(self, sql: str, *args: Any) -> list[Any]:
        if self.conn is not None:
            return self.conn.execute(sql.replace("$1", "?").replace("$2", "?"), args).fetchall()
        if self.pool is None:
            await self.start()
        async with self.pool.acquire() as conn:
            return list(await conn.fetch(sql, *args))

    async def title(self, track: str, level: str) -> str | None:
        if (track, level) not in self.titles:
            rows = await self.rows(
                "SELECT ladder FROM rm_ladders WHERE track = $1 ORDER BY version DESC LIMIT 1",
                track,
            )
            for entry in orjson.loads(rows[0][0])["levels"] if rows else []:
                self.titles[(track, entry["key"])] = entry["title"]
        return self.titles.get((track, level))

    def authorized(self, request: Request) -> bool:
        token = token_from_authorization(request.headers.get("authorization"))
        principal = decode_token(self.secret, token)
        return principal is not None and principal.can_read_everything

    async def person(self, request: Request) -> Response:
        if not self.authorized(request):
            return Response(status_code=401)
        body = orjson.loads(await request.body())
        person_id = body["variables"]["id"]
        found = await self.rows(
            "SELECT name, track, level FROM rm_people WHERE person_id = $1", person_id
        )
        if not found:
            return Response(orjson.dumps({"data": {"person": None}}), media_type="application/json")
        name, track, level = found[0]
        events = await self.rows(
            "SELECT type, data FROM events WHERE stream = $1 ORDER BY version",
            f"person-{person_id}",
        )
        history = [
            {"type": t, "effectiveOn": orjson.loads(d).get("effective_on")} for t, d in events
        ]
        person = {
            "name": name,
            "level": {"title": await self.title(track, level)},
            "careerHistory": {"events": history},
        }
        return Response(orjson.dumps({"data": {"person": person}}), media_type="application/json")

    async def people(self, request: Request) -> Response:
        if not self.authorized(request):
            return Response(status_code=401)
        await request.body()
        rows = await self.rows(
            "SELECT name, track, level FROM rm_people ORDER BY name, person_id LIMIT 50"
        )
        edges = [
            {"node": {"name": n, "level": {"title": await self.title(t, lv)}}} for n, t, lv in rows
        ]
        return Response(
            orjson.dumps({"data": {"people": {"edges": edges}}}), media_type="application/json"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    secret = os.environ["LADDER_TOKEN_SECRET"]
    settings = Settings(_env_file=None, database_url=args.url, token_secret=secret)
    app = create_app(settings, bootstrap=runtime_services)
    bare = Bare(args.url, secret)
    app.router.routes.insert(0, Route("/bare/person", bare.person, methods=["POST"]))
    app.router.routes.insert(0, Route("/bare/people", bare.people, methods=["POST"]))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
