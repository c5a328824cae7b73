"""Several server processes on one PostgreSQL schema behave as one server.

Two real ``uvicorn --factory api.app:serve_app`` processes, started at the same moment on
an empty schema and configured only through the environment, are driven over real HTTP
and WebSocket: what one process writes the other reads and streams, concurrent writers
through both never lose or double an event, and the first start publishes the ladder
once. PostgreSQL does the coordinating (advisory locks, LISTEN/NOTIFY, row locks).
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection

from api.auth import Role, mint_token
from domain.ladder import bundled_ladder
from events.db import create_engine
from events.migrate import current_revision, head_revision
from events.port import RecordedEvent
from events.projections import ALL
from events.projector import Projector
from events.sql_store import SqlEventStore
from tests.e2e.live_api import (
    HIRED_LONG_AGO,
    TODAY,
    TRANSPORT_WS,
    gql,
    next_data,
    nothing_more,
    receive,
    run_mutation,
    send,
)
from tests.e2e.multiprocess_support import (
    ServerProcess,
    data_of,
    eventually,
    running_servers,
    wait_ready,
)
from tests.support import create_pg_schema, drop_pg_schema, pg_schema_url, require_postgres

pytestmark = pytest.mark.postgres

VISIBLE_WITHIN = 5.0  # seconds a write through one process may take to show in the other
CONCURRENT_WRITES = 24

PROMOTIONS = """
subscription($after: Int) {
  promotions(afterPosition: $after, track: "product") {
    position personId fromLevelKey toLevelKey effectiveOn
  }
}
"""
PERSON_ON_THE_OTHER_SIDE = """
query($id: ID!, $level: String!) {
  person(id: $id) { personId levelKey level { key title } }
  people(first: 100, track: "product", level: $level) { edges { node { personId } } }
}
"""


@dataclass(frozen=True)
class Cluster:
    """Two server processes on one schema, and the token they both accept."""

    a: ServerProcess
    b: ServerProcess
    database_url: str
    hr_token: str
    ready_after: float


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Processes A and B, started at once on a fresh empty schema, both ready."""
    require_postgres()
    secret = secrets.token_urlsafe(48)
    hr_token = mint_token(secret, Role.HR, "hr-multiprocess", timedelta(hours=1))
    schema = create_pg_schema("mp")
    try:
        url = pg_schema_url(schema)
        logs: Path = tmp_path_factory.mktemp("servers")
        with running_servers(["A", "B"], url, secret, logs) as (a, b):
            ready_after = asyncio.run(wait_ready([a, b]))
            yield Cluster(a, b, url, hr_token, ready_after)
    finally:
        drop_pg_schema(schema)


@pytest.fixture
async def clients(cluster: Cluster) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with cluster.a.client() as a, cluster.b.client() as b:
        yield a, b


@pytest.fixture
async def store(cluster: Cluster) -> AsyncIterator[SqlEventStore]:
    """The log, read directly (not through either server)."""
    engine = create_engine(cluster.database_url)
    try:
        yield SqlEventStore(engine)
    finally:
        await engine.dispose()


async def mutate(
    client: httpx.AsyncClient, token: str, name: str, input: dict[str, Any]
) -> dict[str, Any]:
    return await run_mutation(client, name, input, token=token, extra="personId")


async def hire(client: httpx.AsyncClient, token: str, level: str = "pm") -> str:
    """Hire someone new through ``client``'s process; return their UUID."""
    person_id = str(uuid.uuid4())
    payload = await mutate(
        client,
        token,
        "hirePerson",
        {
            "personId": person_id,
            "name": f"Multi {person_id[:8]}",
            "email": f"multi-{person_id[:8]}@example.com",
            "track": "product",
            "level": level,
            "hiredOn": HIRED_LONG_AGO.isoformat(),
            "priorYears": bundled_ladder("product").level(level).min_years,
        },
    )
    assert payload["errors"] == [], payload
    return person_id


def promotion(person_id: str, to_level: str, days_ago: int) -> dict[str, Any]:
    return {
        "personId": person_id,
        "toLevel": to_level,
        "effectiveOn": (TODAY - timedelta(days=days_ago)).isoformat(),
        "rationale": "Led the launch across two teams.",
        "experienceException": "Exceptional impact.",
    }


def training(person_id: str, program: str, expected_version: int | None = None) -> dict[str, Any]:
    return {
        "personId": person_id,
        "program": program,
        "effectiveOn": (TODAY - timedelta(days=7)).isoformat(),
        "expectedVersion": expected_version,
    }


@asynccontextmanager
async def promotions_on(
    server: ServerProcess, token: str, after: int
) -> AsyncIterator[ClientConnection]:
    """A ``promotions`` subscription (graphql-transport-ws, token in connection_init)."""
    async with server.ws_connect(TRANSPORT_WS) as ws:
        await send(ws, {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        ack = await receive(ws, timeout=10)
        assert ack["type"] == "connection_ack", ack
        payload = {"query": PROMOTIONS, "variables": {"after": after}}
        await send(ws, {"type": "subscribe", "id": "1", "payload": payload})
        yield ws


def programs(events: list[RecordedEvent]) -> Counter[str]:
    return Counter(
        str(e.data["program"]) for e in events if e.type == "LeadershipTrainingCompleted"
    )


async def test_two_processes_started_at_once_publish_the_default_ladder_once(
    cluster: Cluster, clients: tuple[httpx.AsyncClient, httpx.AsyncClient], store: SqlEventStore
) -> None:
    published = await store.read_all(0, types=["LadderPublished"])
    assert [(e.stream, e.version) for e in published] == [("ladder-product", 1)]
    assert await current_revision(store.engine) == head_revision()
    for client in clients:
        body = await gql(client, '{ ladder(track: "product") { version } }', token=None)
        assert data_of(body) == {"ladder": {"version": 1}}


async def test_a_hire_and_promotion_through_one_process_show_in_the_others_read_models(
    cluster: Cluster, clients: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    a, b = clients
    token = cluster.hr_token
    person_id = await hire(a, token, level="pm")
    promoted = await mutate(a, token, "recordPromotion", promotion(person_id, "senior_pm", 30))
    assert promoted["errors"] == [], promoted

    async def seen_by_b() -> dict[str, Any]:
        variables = {"id": person_id, "level": "senior_pm"}
        return data_of(await gql(b, PERSON_ON_THE_OTHER_SIDE, variables, token=token))

    def promoted_in(data: dict[str, Any]) -> bool:
        listed = {e["node"]["personId"] for e in data["people"]["edges"]}
        person = data["person"]
        return (
            person is not None
            and person["levelKey"] == "senior_pm"
            and person["personId"] in listed
        )

    data, _ = await eventually(seen_by_b, promoted_in, within=VISIBLE_WITHIN)
    assert data["person"]["level"] == {"key": "senior_pm", "title": "Senior Product Manager"}


async def test_a_subscriber_on_one_process_receives_a_promotion_recorded_through_the_other(
    cluster: Cluster, clients: tuple[httpx.AsyncClient, httpx.AsyncClient], store: SqlEventStore
) -> None:
    a, b = clients
    token = cluster.hr_token
    person_id = await hire(a, token, level="pm")
    after = await store.last_position()
    async with promotions_on(cluster.b, token, after) as ws:
        # One through B itself first: once it arrives, B's subscription is following live.
        own = await mutate(b, token, "recordPromotion", promotion(person_id, "senior_pm", 60))
        assert own["errors"] == [], own
        first = (await next_data(ws, timeout=10))["promotions"]
        assert first["position"] == own["position"]

        sent = time.monotonic()
        other = await mutate(a, token, "recordPromotion", promotion(person_id, "group_pm", 30))
        answered = time.monotonic()
        assert other["errors"] == [], other
        heard = (await next_data(ws, timeout=VISIBLE_WITHIN))["promotions"]
        received = time.monotonic()

        assert heard == {
            "position": other["position"],
            "personId": other["personId"],
            "fromLevelKey": "senior_pm",
            "toLevelKey": "group_pm",
            "effectiveOn": promotion(person_id, "group_pm", 30)["effectiveOn"],
        }
        assert received - answered < VISIBLE_WITHIN, (sent, answered, received)
        assert await nothing_more(ws, within=0.5)  # delivered once


async def test_concurrent_writes_through_both_processes_are_all_kept_once_in_order(
    cluster: Cluster, clients: tuple[httpx.AsyncClient, httpx.AsyncClient], store: SqlEventStore
) -> None:
    a, b = clients
    token = cluster.hr_token
    person_id = await hire(a, token)
    sent = [f"Course {i:02d}" for i in range(CONCURRENT_WRITES)]
    payloads = await asyncio.gather(
        *(
            mutate((a, b)[i % 2], token, "recordTraining", training(person_id, program))
            for i, program in enumerate(sent)
        )
    )

    kept = {p: r for p, r in zip(sent, payloads, strict=True) if not r["errors"]}
    refused = [r["errors"] for r in payloads if r["errors"]]
    assert all(e["code"] == "CONCURRENCY_CONFLICT" for errors in refused for e in errors), refused
    assert kept, "every write was refused"

    stream = await store.read_stream(f"person-{person_id}")
    assert [e.version for e in stream] == list(range(1, len(kept) + 2))
    assert programs(stream) == Counter(kept.keys())  # each accepted write once, no refused one
    at = {str(e.data["program"]): e.position for e in stream[1:]}
    assert {p: r["position"] for p, r in kept.items()} == at

    log = await store.read_all(0, limit=100_000)
    assert [e.position for e in log] == list(range(1, len(log) + 1))
    assert (await store.verify()).ok


async def test_writers_racing_on_one_expected_version_through_both_processes_get_one_winner(
    cluster: Cluster, clients: tuple[httpx.AsyncClient, httpx.AsyncClient], store: SqlEventStore
) -> None:
    a, b = clients
    token = cluster.hr_token
    person_id = await hire(b, token)
    racers = [f"Race {i:02d}" for i in range(10)]
    payloads = await asyncio.gather(
        *(
            mutate((a, b)[i % 2], token, "recordTraining", training(person_id, program, 1))
            for i, program in enumerate(racers)
        )
    )

    winners = [p for p, r in zip(racers, payloads, strict=True) if not r["errors"]]
    losers = [r["errors"] for r in payloads if r["errors"]]
    assert len(winners) == 1, payloads
    assert all(
        errors == [{"code": "CONCURRENCY_CONFLICT", "message": errors[0]["message"],
                    "field": "expectedVersion"}]
        for errors in losers
    ), losers  # fmt: skip
    stream = await store.read_stream(f"person-{person_id}")
    assert [e.version for e in stream] == [1, 2]
    assert programs(stream) == Counter(winners)


async def test_both_processes_projectors_apply_every_event_exactly_once(
    cluster: Cluster, clients: tuple[httpx.AsyncClient, httpx.AsyncClient], store: SqlEventStore
) -> None:
    a, b = clients
    token = cluster.hr_token
    people = await asyncio.gather(*(hire((a, b)[i % 2], token) for i in range(6)))
    await asyncio.gather(
        *(
            mutate((b, a)[i % 2], token, "recordPromotion", promotion(p, "senior_pm", 10))
            for i, p in enumerate(people)
        )
    )
    projector = Projector(store.engine, store, ALL)
    reports, _ = await eventually(
        projector.check_consistency,
        lambda rs: not any(r.behind for r in rs),
        within=VISIBLE_WITHIN,
    )
    assert [r.name for r in reports if r.skipped] == [], reports


async def test_hires_racing_for_one_email_through_both_processes_leave_it_to_one_person(
    cluster: Cluster, clients: tuple[httpx.AsyncClient, httpx.AsyncClient], store: SqlEventStore
) -> None:
    token = cluster.hr_token
    address = f"race-{uuid.uuid4().hex[:8]}@example.com"
    spellings = [address, address.upper(), address.title()]
    payloads = await asyncio.gather(
        *(
            mutate(
                clients[i % 2],
                token,
                "hirePerson",
                {
                    "personId": str(uuid.uuid4()),
                    "name": f"Racer {i}",
                    "email": spellings[i % 3],
                    "track": "product",
                    "level": "apm",
                    "hiredOn": HIRED_LONG_AGO.isoformat(),
                },
            )
            for i in range(12)
        )
    )
    assert len([p for p in payloads if not p["errors"]]) == 1, payloads
    codes = {e["code"] for p in payloads for e in p["errors"]}
    assert "EMAIL_ALREADY_USED" in codes and codes <= {"EMAIL_ALREADY_USED", "CONCURRENCY_CONFLICT"}
    hires = await store.read_all(0, limit=100_000, types=["PersonHired"])
    assert len([e for e in hires if str(e.data["email"]).lower() == address]) == 1


async def test_manager_changes_racing_through_both_processes_never_close_a_ring(
    cluster: Cluster, clients: tuple[httpx.AsyncClient, httpx.AsyncClient], store: SqlEventStore
) -> None:
    token = cluster.hr_token
    ring = [await hire(clients[0], token) for _ in range(4)]
    payloads = await asyncio.gather(
        *(
            mutate(
                clients[i % 2],
                token,
                "changeManager",
                {
                    "personId": p,
                    "managerId": ring[(i + 1) % len(ring)],
                    "effectiveOn": TODAY.isoformat(),
                },
            )
            for i, p in enumerate(ring)
        )
    )
    codes = {e["code"] for p in payloads for e in p["errors"]}
    assert codes and codes <= {"MANAGER_CYCLE", "CONCURRENCY_CONFLICT"}, payloads
    managers: dict[str, str | None] = {}
    for person in ring:
        changes = [
            e for e in await store.read_stream(f"person-{person}") if e.type == "ManagerChanged"
        ]
        managers[person] = str(changes[-1].data["manager_id"]) if changes else None
    for start in ring:
        seen, current = {start}, managers[start]
        while current in managers:
            assert current not in seen, managers
            seen.add(current)
            current = managers[current]
