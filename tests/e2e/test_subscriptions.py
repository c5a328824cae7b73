"""Subscriptions over WebSocket: replay then live with no gap or duplicate, resume after a
drop, rights checked per event, on both subprotocols and both backends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.auth import Role
from api.scopes import parse_id_text
from events.db import create_engine
from events.sql_store import SqlEventStore
from tests.e2e.conftest import LiveServer, mint
from tests.e2e.live_api import (
    LEGACY_WS,
    TODAY,
    TRANSPORT_WS,
    backend_url,
    hire,
    log_position,
    next_data,
    nothing_more,
    promote,
    receive,
    run_mutation,
    runtime_server,
    send,
    subscribed,
)

LADDER = ["apm", "pm", "senior_pm", "group_pm", "director", "vp_product"]
PROMOTIONS = """
subscription($after: Int, $track: String) {
  promotions(afterPosition: $after, track: $track) {
    position streamVersion personId track fromLevelKey toLevelKey ladderVersion effectiveOn
    toLevel { key title }
  }
}
"""
CAREER = """
subscription($person: ID!, $after: Int) {
  careerEvents(personId: $person, afterPosition: $after) { position streamVersion type personId }
}
"""


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with backend_url(request.param, str(tmp_path_factory.mktemp("subs"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


async def promotion_positions(database: str, after: int) -> list[int]:
    """The positions of every promotion in the log after ``after``, read directly."""
    engine = create_engine(database)
    try:
        events = await SqlEventStore(engine).read_all(after, 100_000, types=["PromotionRecorded"])
    finally:
        await engine.dispose()
    return [e.position for e in events]


async def climb(client: httpx.AsyncClient, person_id: str, steps: int, start: int = 0) -> None:
    """Promote ``person_id`` ``steps`` levels up from ``LADDER[start]``, a day apart."""
    for step in range(steps):
        on = TODAY - timedelta(days=200 - 10 * (start + step))
        await promote(client, person_id, LADDER[start + step + 1], on)


async def collect(ws: Any, field: str, count: int) -> list[dict[str, Any]]:
    return [(await next_data(ws, timeout=10.0))[field] for _ in range(count)]


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_promotions_replay_then_go_live_with_no_gap_and_no_duplicate(
    server: LiveServer, client: httpx.AsyncClient, database: str, protocol: str
) -> None:
    start = await log_position(database)
    replayed = (await hire(client, level="apm", prior_years=20))["personId"]
    await climb(client, replayed, 3)
    live = (await hire(client, level="apm", prior_years=20))["personId"]
    async with subscribed(server, PROMOTIONS, {"after": start}, protocol=protocol) as ws:
        # Writers race the replay: the switch to live must neither skip nor repeat.
        writer = asyncio.create_task(climb(client, live, 5))
        received = await collect(ws, "promotions", 8)
        await writer
        assert await nothing_more(ws)
    expected = await promotion_positions(database, start)
    assert [m["position"] for m in received] == expected
    assert [m["toLevelKey"] for m in received] == LADDER[1:4] + LADDER[1:6]
    assert received[0]["toLevel"] == {"key": "pm", "title": "Product Manager"}
    assert {m["personId"] for m in received[3:]} == {live}


async def test_a_dropped_subscriber_resumes_exactly_where_it_was(
    server: LiveServer, client: httpx.AsyncClient, database: str
) -> None:
    start = await log_position(database)
    person = (await hire(client, level="apm", prior_years=20))["personId"]
    async with subscribed(server, PROMOTIONS, {"after": start}) as ws:
        await climb(client, person, 2)
        first = await collect(ws, "promotions", 2)
    await climb(client, person, 2, start=2)  # while nobody listens
    async with subscribed(server, PROMOTIONS, {"after": first[-1]["position"]}) as ws:
        missed = await collect(ws, "promotions", 2)
        await climb(client, person, 1, start=4)
        later = await collect(ws, "promotions", 1)
    positions = [m["position"] for m in first + missed + later]
    assert positions == await promotion_positions(database, start)
    assert [m["toLevelKey"] for m in first + missed + later] == LADDER[1:6]


async def test_without_after_position_only_live_promotions_arrive(
    server: LiveServer, client: httpx.AsyncClient, database: str
) -> None:
    person = (await hire(client, level="apm", prior_years=20))["personId"]
    await climb(client, person, 1)
    async with subscribed(server, PROMOTIONS) as ws:
        assert await nothing_more(ws)
        await climb(client, person, 1, start=1)
        [message] = await collect(ws, "promotions", 1)
    assert message["toLevelKey"] == "senior_pm"


async def test_the_track_argument_filters_promotions(
    server: LiveServer, client: httpx.AsyncClient, database: str
) -> None:
    start = await log_position(database)
    person = (await hire(client, level="apm", prior_years=20))["personId"]
    await climb(client, person, 1)
    async with subscribed(server, PROMOTIONS, {"after": start, "track": "engineering"}) as ws:
        assert await nothing_more(ws)
    async with subscribed(server, PROMOTIONS, {"after": start, "track": "product"}) as ws:
        [message] = await collect(ws, "promotions", 1)
    assert message["track"] == "product"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_each_promotion_is_checked_against_the_subscriber_rights(
    server: LiveServer, client: httpx.AsyncClient, database: str, protocol: str
) -> None:
    start = await log_position(database)
    manager = (await hire(client, level="director", prior_years=20))["personId"]
    report = (await hire(client, level="apm", prior_years=20, manager_id=manager))["personId"]
    stranger = (await hire(client, level="apm", prior_years=20))["personId"]
    await climb(client, report, 1)
    await climb(client, stranger, 1)
    seen: dict[str, list[str]] = {}
    for name, token in {
        "employee": mint(Role.EMPLOYEE, parse_id_text(report)),
        "manager": mint(Role.MANAGER, parse_id_text(manager)),
        "auditor": mint(Role.AUDITOR, "auditor-1"),
    }.items():
        async with subscribed(
            server, PROMOTIONS, {"after": start}, token=token, protocol=protocol
        ) as ws:
            count = 2 if name == "auditor" else 1
            seen[name] = [m["personId"] for m in await collect(ws, "promotions", count)]
            assert await nothing_more(ws)
    assert seen == {"employee": [report], "manager": [report], "auditor": [report, stranger]}


async def test_career_events_replay_a_person_stream_then_follow_it(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    person = (await hire(client, level="apm", prior_years=20))["personId"]
    other = (await hire(client, level="apm", prior_years=20))["personId"]
    await climb(client, person, 1)
    async with subscribed(server, CAREER, {"person": person, "after": 0}) as ws:
        replayed = await collect(ws, "careerEvents", 2)
        await climb(client, other, 1)
        await run_mutation(
            client,
            "recordTraining",
            {"personId": person, "program": "Leading", "effectiveOn": TODAY.isoformat()},
        )
        [live] = await collect(ws, "careerEvents", 1)
        assert await nothing_more(ws)
    events = [*replayed, live]
    assert [e["type"] for e in events] == [
        "PersonHired",
        "PromotionRecorded",
        "LeadershipTrainingCompleted",
    ]
    assert [e["streamVersion"] for e in events] == [1, 2, 3]
    assert {e["personId"] for e in events} == {person}


async def error_codes(ws: Any) -> list[str]:
    """The error codes of a refused subscription (either subprotocol's shape)."""
    while True:
        message = await receive(ws)
        if message["type"] in ("ka", "ping", "pong"):
            continue
        payload = message["payload"]
        errors = payload if isinstance(payload, list) else payload.get("errors", [payload])
        return [e["extensions"]["code"] for e in errors]


@pytest.mark.parametrize(
    ("role", "code"),
    [("employee", "FORBIDDEN"), ("manager", "FORBIDDEN"), ("none", "UNAUTHENTICATED")],
)
async def test_career_events_of_someone_out_of_reach_are_refused(
    server: LiveServer, client: httpx.AsyncClient, role: str, code: str
) -> None:
    person = (await hire(client))["personId"]
    tokens = {
        "employee": mint(Role.EMPLOYEE, "11111111-1111-1111-1111-111111111111"),
        "manager": mint(Role.MANAGER, "22222222-2222-2222-2222-222222222222"),
        "none": None,
    }
    async with subscribed(server, CAREER, {"person": person}, token=tokens[role]) as ws:
        assert await error_codes(ws) == [code]


async def test_a_negative_after_position_is_refused(server: LiveServer) -> None:
    async with subscribed(server, PROMOTIONS, {"after": -1}) as ws:
        assert await error_codes(ws) == ["INVALID_ARGUMENT"]


async def test_completing_a_subscription_stops_it(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    async with subscribed(server, PROMOTIONS) as ws:
        await send(ws, {"type": "complete", "id": "1"})
        person = (await hire(client, level="apm", prior_years=20))["personId"]
        await climb(client, person, 1)
        assert await nothing_more(ws)


async def test_a_subscriber_that_stops_reading_slows_neither_writers_nor_others(
    server: LiveServer, client: httpx.AsyncClient, database: str
) -> None:
    start = await log_position(database)
    people = [(await hire(client, level="apm", prior_years=20))["personId"] for _ in range(4)]
    async with (
        subscribed(server, PROMOTIONS, {"after": start}) as stalled,
        subscribed(server, PROMOTIONS, {"after": start}) as ws,
    ):
        began = asyncio.get_running_loop().time()
        for person in people:
            await climb(client, person, 5)  # `stalled` never reads a message
        received = await collect(ws, "promotions", 20)
        elapsed = asyncio.get_running_loop().time() - began
        assert stalled.state.name == "OPEN"
    assert [m["position"] for m in received] == await promotion_positions(database, start)
    assert elapsed < 30
