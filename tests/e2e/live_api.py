"""Helpers for the write-side and subscription suites: a server on a real database,
GraphQL over HTTP, the WebSocket subprotocols, and the log's position read directly.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from api.app import create_app
from api.auth import Role
from api.services import runtime_services
from events.db import create_engine
from events.sql_store import SqlEventStore
from tests.e2e.conftest import LiveServer, make_settings, mint, serve

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
HR = mint(Role.HR, "hr-1")

TODAY = datetime.now(UTC).date()
HIRED_LONG_AGO = date(2010, 1, 4)
HIRED_RECENTLY = TODAY - timedelta(days=400)


@contextmanager
def runtime_server(database_url: str) -> Iterator[LiveServer]:
    """The real app (bootstrap, projector, notifier) on ``database_url`` under uvicorn."""
    settings = make_settings(database_url=database_url)
    with serve(create_app(settings, bootstrap=runtime_services), settings) as server:
        yield server


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = HR,
) -> dict[str, Any]:
    headers = {"accept": "application/graphql-response+json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    body = response.json()
    assert isinstance(body, dict)
    return body


async def log_position(database_url: str) -> int:
    """The log's last position, read straight from the database."""
    engine = create_engine(database_url)
    try:
        return await SqlEventStore(engine).last_position()
    finally:
        await engine.dispose()


def new_id() -> str:
    return str(uuid.uuid4())


HIRE = """
mutation Hire($input: HirePersonInput!) {
  hirePerson(input: $input) {
    personId position streamVersion replayed
    events { eventId type position streamVersion }
    errors { code message field }
  }
}
"""


async def hire(
    client: httpx.AsyncClient,
    *,
    level: str = "pm",
    hired_on: date = HIRED_LONG_AGO,
    prior_years: float | None = None,
    manager_id: str | None = None,
    track: str = "product",
    person_id: str | None = None,
) -> dict[str, Any]:
    """Hire someone and return the payload (asserting it succeeded); ``prior_years``
    defaults to the level's minimum, so no experience exception is needed."""
    person_id = person_id or new_id()
    if prior_years is None:
        from domain.ladder import bundled_ladder

        prior_years = float(bundled_ladder(track).level(level).min_years)
    body = await gql(
        client,
        HIRE,
        {
            "input": {
                "personId": person_id,
                "name": f"Person {person_id[:8]}",
                "email": f"{person_id[:8]}@example.com",
                "track": track,
                "level": level,
                "hiredOn": hired_on.isoformat(),
                "priorYears": prior_years,
                "managerId": manager_id,
            }
        },
    )
    payload = body["data"]["hirePerson"]
    assert payload["errors"] == [], payload
    assert isinstance(payload, dict)
    return payload


PROMOTE = """
mutation Promote($input: RecordPromotionInput!) {
  recordPromotion(input: $input) {
    personId position streamVersion replayed
    events { eventId type position }
    errors { code message field }
  }
}
"""


async def promote(
    client: httpx.AsyncClient, person_id: str, to_level: str, effective_on: date
) -> dict[str, Any]:
    body = await gql(
        client,
        PROMOTE,
        {
            "input": {
                "personId": person_id,
                "toLevel": to_level,
                "effectiveOn": effective_on.isoformat(),
                "rationale": "Shipped and led.",
                "experienceException": "Exceptional impact.",
            }
        },
    )
    payload = body["data"]["recordPromotion"]
    assert payload["errors"] == [], payload
    assert isinstance(payload, dict)
    return payload


# --- WebSocket --------------------------------------------------------------------------


async def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def receive(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(decode=True), timeout))
    assert isinstance(message, dict)
    return message


@asynccontextmanager
async def subscribed(
    server: LiveServer,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = HR,
    protocol: str = TRANSPORT_WS,
) -> AsyncIterator[ClientConnection]:
    """A connection with ``query`` subscribed as operation ``"1"`` (either subprotocol)."""
    async with server.ws_connect(protocol) as ws:
        init: dict[str, Any] = {"token": token} if token is not None else {}
        await send(ws, {"type": "connection_init", "payload": init})
        ack = await receive(ws)
        assert ack["type"] == "connection_ack", ack
        start = "subscribe" if protocol == TRANSPORT_WS else "start"
        payload = {"query": query, "variables": variables or {}}
        await send(ws, {"type": start, "id": "1", "payload": payload})
        yield ws


async def next_data(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    """The ``data`` of the next result (``next``, legacy ``data``); skips keep-alives."""
    while True:
        message = await receive(ws, timeout)
        if message["type"] in ("ka", "ping", "pong"):
            continue
        assert message["type"] in ("next", "data"), message
        payload = message["payload"]
        assert "errors" not in payload, payload
        data = payload["data"]
        assert isinstance(data, dict)
        return data


async def nothing_more(ws: ClientConnection, within: float = 0.5) -> bool:
    """True when no result message arrives within ``within`` seconds."""
    try:
        while True:
            message = await receive(ws, within)
            if message["type"] not in ("ka", "ping", "pong"):
                return False
    except TimeoutError:
        return True


# --- any mutation -----------------------------------------------------------------------

PAYLOAD_FIELDS = (
    "position streamVersion replayed "
    "events { eventId type stream position } errors { code message field }"
)

INPUT_TYPES = {
    "hirePerson": "HirePersonInput",
    "recordPromotion": "RecordPromotionInput",
    "recordDemotion": "RecordDemotionInput",
    "recordLateralMove": "RecordLateralMoveInput",
    "startMentorship": "StartMentorshipInput",
    "endMentorship": "EndMentorshipInput",
    "startRotation": "StartRotationInput",
    "endRotation": "EndRotationInput",
    "recordTraining": "RecordTrainingInput",
    "recordDeparture": "RecordDepartureInput",
    "rehirePerson": "RehirePersonInput",
    "changeManager": "ChangeManagerInput",
    "correctEvent": "CorrectEventInput",
    "rescindEvent": "RescindEventInput",
    "publishLadder": "PublishLadderInput",
    "erasePersonalData": "ErasePersonalDataInput",
}


def mutation_document(name: str, extra: str = "") -> str:
    return (
        f"mutation Run($input: {INPUT_TYPES[name]}!) "
        f"{{ {name}(input: $input) {{ {PAYLOAD_FIELDS} {extra} }} }}"
    )


async def run_mutation(
    client: httpx.AsyncClient,
    name: str,
    input: dict[str, Any],
    *,
    extra: str = "",
    token: str | None = HR,
) -> dict[str, Any]:
    """The mutation's payload (asserting the request had no top-level errors)."""
    body = await gql(client, mutation_document(name, extra), {"input": input}, token=token)
    assert "errors" not in body, body
    payload = body["data"][name]
    assert isinstance(payload, dict)
    return payload


def ladder_input(track: str, name: str, source: str = "engineering") -> dict[str, Any]:
    """A ``PublishLadderInput`` from a ladder shipped in ``domain/data``."""
    from domain.ladder import bundled_ladder

    ladder = bundled_ladder(source)
    return {
        "track": track,
        "name": name,
        "levels": [
            {
                "key": level.key,
                "title": level.title,
                "rank": level.rank,
                "minYears": level.min_years,
                "description": level.description,
                "progression": level.progression,
                "experience": level.experience,
                "requires": list(level.requires),
            }
            for level in ladder.levels
        ],
        "developmentAreas": [
            {"key": a.key, "name": a.name, "group": a.group, "description": a.description}
            for a in ladder.development_areas
        ],
    }


@contextmanager
def backend_url(kind: str, directory: str) -> Iterator[str]:
    """A fresh database of ``kind`` (``sqlite`` or ``postgres``) for a module's server."""
    from tests.support import create_pg_schema, drop_pg_schema, pg_schema_url, require_postgres

    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{directory}/events.db"
        return
    require_postgres()
    schema = create_pg_schema("e2e")
    try:
        yield pg_schema_url(schema)
    finally:
        drop_pg_schema(schema)
