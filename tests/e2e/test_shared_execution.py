"""Shared execution of subscription results (``api.fanout``), over real WebSockets on both
backends: subscribers with the same document, variables and visibility class share one
execution per event, and each still gets exactly what it would have got alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.auth import Role
from api.fanout import COUNTS, SHARE_SECONDS
from api.scopes import parse_id_text
from tests.e2e.conftest import LiveServer, mint
from tests.e2e.live_api import (
    HR,
    LEGACY_WS,
    TODAY,
    TRANSPORT_WS,
    backend_url,
    hire,
    log_position,
    next_data,
    nothing_more,
    promote,
    runtime_server,
    subscribed,
)

PROMOTIONS = """
subscription($after: Int, $track: String) {
  promotions(afterPosition: $after, track: $track) {
    position personId toLevelKey toLevel { title } person { name manager { name } }
  }
}
"""
CAREER = """
subscription($person: ID!, $after: Int) {
  careerEvents(personId: $person, afterPosition: $after) { position type personId }
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
    with backend_url(request.param, str(tmp_path_factory.mktemp("shared"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


async def messages(ws: Any, field: str, count: int) -> list[dict[str, Any]]:
    """The next ``count`` results, then nothing more."""
    got = [(await next_data(ws, timeout=10.0))[field] for _ in range(count)]
    assert await nothing_more(ws)
    return got


async def test_subscribers_with_the_same_document_share_one_execution_per_event(
    server: LiveServer, client: httpx.AsyncClient, database: str
) -> None:
    start = await log_position(database)
    person = (await hire(client, level="apm", prior_years=20))["personId"]
    async with AsyncExitStack() as stack:
        sockets = [
            await stack.enter_async_context(
                subscribed(server, PROMOTIONS, {"after": start}, protocol=protocol)
            )
            for protocol in [TRANSPORT_WS, LEGACY_WS] * 4
        ]
        await asyncio.sleep(0.3)  # every subscription follows the log
        before, written = COUNTS.executions, COUNTS.hub_events
        await promote(client, person, "pm", TODAY - timedelta(days=30))
        await promote(client, person, "senior_pm", TODAY - timedelta(days=20))
        received = [await messages(ws, "promotions", 2) for ws in sockets]
        executed = COUNTS.executions - before
        hub_writes = COUNTS.hub_events - written
    assert all(got == received[0] for got in received)
    assert [m["toLevelKey"] for m in received[0]] == ["pm", "senior_pm"]
    assert executed == 2  # one per event, not one per event and subscriber
    assert hub_writes == 2  # live: written once per event by the group's hub


async def test_subscribers_resuming_from_different_positions_share_the_live_events(
    server: LiveServer, client: httpx.AsyncClient, database: str
) -> None:
    start = await log_position(database)
    person = (await hire(client, level="apm", prior_years=20))["personId"]
    first = await promote(client, person, "pm", TODAY - timedelta(days=30))
    async with (
        subscribed(server, PROMOTIONS, {"after": start}) as early,
        subscribed(server, PROMOTIONS, {"after": first["position"]}, protocol=LEGACY_WS) as late,
    ):
        replayed = (await next_data(early, timeout=10.0))["promotions"]
        await asyncio.sleep(0.3)
        before, fanned = COUNTS.executions, COUNTS.hub_events
        await promote(client, person, "senior_pm", TODAY - timedelta(days=20))
        await promote(client, person, "group_pm", TODAY - timedelta(days=10))
        live_early = await messages(early, "promotions", 2)
        live_late = await messages(late, "promotions", 2)
        executed, hub_events = COUNTS.executions - before, COUNTS.hub_events - fanned
    assert replayed["position"] == first["position"]
    assert live_early == live_late
    assert [m["toLevelKey"] for m in live_late] == ["senior_pm", "group_pm"]
    assert (executed, hub_events) == (2, 2)  # `afterPosition` chooses events, not results


async def test_different_variables_are_executed_apart_and_each_gets_its_own_result(
    server: LiveServer, client: httpx.AsyncClient, database: str
) -> None:
    start = await log_position(database)
    person = (await hire(client, level="apm", prior_years=20))["personId"]
    variables = [{"after": start, "track": "product"}, {"after": start, "track": "engineering"}]
    async with AsyncExitStack() as stack:
        sockets = [
            await stack.enter_async_context(subscribed(server, PROMOTIONS, v))
            for v in variables * 3
        ]
        await asyncio.sleep(0.3)
        before = COUNTS.executions
        await promote(client, person, "pm", TODAY - timedelta(days=30))
        product = [await messages(ws, "promotions", 1) for ws in sockets[0::2]]
        engineering = [await messages(ws, "promotions", 0) for ws in sockets[1::2]]
        executed = COUNTS.executions - before
    assert [[m["personId"] for m in got] for got in product] == [[person]] * 3
    assert engineering == [[]] * 3
    assert executed == 1  # the engineering subscribers never had an event to execute


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_subscribers_who_see_differently_each_get_their_own_correct_stream(
    server: LiveServer, client: httpx.AsyncClient, database: str, protocol: str
) -> None:
    start = await log_position(database)
    manager = await hire(client, level="director", prior_years=20)
    manager_id = manager["personId"]
    report = (await hire(client, level="apm", prior_years=20, manager_id=manager_id))["personId"]
    stranger = (await hire(client, level="apm", prior_years=20))["personId"]
    tokens = {
        "hr": HR,
        "hr too": HR,
        "auditor": mint(Role.AUDITOR, "auditor-1"),
        "manager": mint(Role.MANAGER, parse_id_text(manager_id)),
        "report": mint(Role.EMPLOYEE, parse_id_text(report)),
        "report again": mint(Role.EMPLOYEE, parse_id_text(report)),
        "stranger": mint(Role.EMPLOYEE, parse_id_text(stranger)),
    }

    def name_of(person_id: str) -> str:
        return f"Person {parse_id_text(person_id)[:8]}"

    counts = {"hr": 2, "hr too": 2, "auditor": 2, "stranger": 1}
    together: dict[str, list[dict[str, Any]]] = {}
    async with AsyncExitStack() as stack:
        sockets = {
            name: await stack.enter_async_context(
                subscribed(server, PROMOTIONS, {"after": start}, token=token, protocol=protocol)
            )
            for name, token in tokens.items()
        }
        await asyncio.sleep(0.3)
        await promote(client, report, "pm", TODAY - timedelta(days=30))
        await promote(client, stranger, "pm", TODAY - timedelta(days=30))
        for name, ws in sockets.items():
            together[name] = await messages(ws, "promotions", counts.get(name, 1))

    boss = {"name": name_of(manager_id)}
    report_seen_by_all = {"name": name_of(report), "manager": boss}
    # The same event, executed for each visibility class: an employee cannot see their
    # manager, HR, auditors and the manager can.
    assert [m["person"] for m in together["hr"]] == [
        report_seen_by_all,
        {"name": name_of(stranger), "manager": None},
    ]
    assert together["hr too"] == together["hr"] == together["auditor"]
    assert [m["person"] for m in together["manager"]] == [report_seen_by_all]
    assert [m["person"] for m in together["report"]] == [{"name": name_of(report), "manager": None}]
    assert together["report again"] == together["report"]
    assert [m["personId"] for m in together["stranger"]] == [stranger]

    # And each alone, once no shared result can be reused, gets the very same stream.
    await asyncio.sleep(SHARE_SECONDS + 0.2)
    for name, token in tokens.items():
        async with subscribed(
            server, PROMOTIONS, {"after": start}, token=token, protocol=protocol
        ) as ws:
            alone = await messages(ws, "promotions", counts.get(name, 1))
        assert alone == together[name], name


async def test_career_events_are_shared_per_person_and_checked_per_subscriber(
    server: LiveServer, client: httpx.AsyncClient, database: str
) -> None:
    manager_id = (await hire(client, level="director", prior_years=20))["personId"]
    report = (await hire(client, level="apm", prior_years=20, manager_id=manager_id))["personId"]
    other = (await hire(client, level="apm", prior_years=20))["personId"]
    start = await log_position(database)
    followers = [
        (HR, report),
        (HR, report),
        (mint(Role.MANAGER, parse_id_text(manager_id)), report),
        (mint(Role.EMPLOYEE, parse_id_text(report)), report),
        (HR, other),
    ]
    async with AsyncExitStack() as stack:
        sockets = [
            await stack.enter_async_context(
                subscribed(server, CAREER, {"person": person, "after": start}, token=token)
            )
            for token, person in followers
        ]
        await asyncio.sleep(0.3)
        before = COUNTS.executions
        await promote(client, report, "pm", TODAY - timedelta(days=30))
        await promote(client, other, "pm", TODAY - timedelta(days=30))
        received = [await messages(ws, "careerEvents", 1) for ws in sockets]
        executed = COUNTS.executions - before
    assert [[m["personId"] for m in got] for got in received] == [[report]] * 4 + [[other]]
    assert all(got == received[0] for got in received[:4])
    # Three visibility classes follow the report (HR, the manager, the report), one the other.
    assert executed == 4
