"""The promotions feed carries what happened to each promotion: recorded, corrected and
rescinded, each as its own message with its own position, in log order, replayed and live."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from events.db import create_engine
from events.sql_store import SqlEventStore
from tests.e2e.conftest import LiveServer
from tests.e2e.live_api import (
    LEGACY_WS,
    TODAY,
    TRANSPORT_WS,
    backend_url,
    gql,
    hire,
    log_position,
    next_data,
    nothing_more,
    promote,
    run_mutation,
    runtime_server,
    subscribed,
)

FEED = """
subscription($after: Int, $track: String) {
  promotions(afterPosition: $after, track: $track) {
    position eventId personId change promotionId inForce changedFields reason
    toLevelKey effectiveOn rationale
  }
}
"""
CHANGE_TYPES = ["PromotionRecorded", "EventCorrected", "EventRescinded"]


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
    with backend_url(request.param, str(tmp_path_factory.mktemp("reversals"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


async def change_positions(database: str, after: int) -> list[int]:
    """Positions of every promotion, correction and rescind after ``after``, read directly."""
    engine = create_engine(database)
    try:
        events = await SqlEventStore(engine).read_all(after, 100_000, types=CHANGE_TYPES)
    finally:
        await engine.dispose()
    return [e.position for e in events]


async def correct(client: httpx.AsyncClient, person: str, target: str, **changes: Any) -> int:
    payload = await run_mutation(
        client,
        "correctEvent",
        {"personId": person, "targetEventId": target, "changes": changes, "reason": "Typo."},
    )
    assert payload["errors"] == [], payload
    return int(payload["position"])


async def rescind(client: httpx.AsyncClient, person: str, target: str) -> int:
    payload = await run_mutation(
        client,
        "rescindEvent",
        {"personId": person, "targetEventId": target, "reason": "Recorded in error."},
    )
    assert payload["errors"] == [], payload
    return int(payload["position"])


async def promoted(client: httpx.AsyncClient, days_ago: int = 40) -> tuple[str, str]:
    """A new person promoted pm -> senior_pm; their id and the promotion's event id."""
    person = (await hire(client, level="pm", prior_years=6))["personId"]
    payload = await promote(client, person, "senior_pm", TODAY - timedelta(days=days_ago))
    return person, payload["events"][0]["eventId"]


async def collect(ws: Any, count: int) -> list[dict[str, Any]]:
    return [(await next_data(ws, timeout=10.0))["promotions"] for _ in range(count)]


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_replay_shows_a_rescinded_promotion_followed_by_its_rescission(
    server: LiveServer, client: httpx.AsyncClient, database: str, protocol: str
) -> None:
    start = await log_position(database)
    person, promotion = await promoted(client)
    earlier = (TODAY - timedelta(days=41)).isoformat()
    corrected_at = await correct(client, person, promotion, effectiveOn=earlier)
    rescinded_at = await rescind(client, person, promotion)
    async with subscribed(server, FEED, {"after": start}, protocol=protocol) as ws:
        received = await collect(ws, 3)
        assert await nothing_more(ws)
    assert [m["change"] for m in received] == ["RECORDED", "CORRECTED", "RESCINDED"]
    assert [m["position"] for m in received] == await change_positions(database, start)
    assert [m["position"] for m in received][1:] == [corrected_at, rescinded_at]
    assert {m["promotionId"] for m in received} == {promotion}
    assert received[0]["eventId"] == promotion
    assert [m["inForce"] for m in received] == [True, True, False]
    assert [m["changedFields"] for m in received] == [[], ["effectiveOn"], []]
    assert [m["reason"] for m in received] == [None, "Typo.", "Recorded in error."]
    # Each message carries the promotion's values after its step.
    assert [m["effectiveOn"] for m in received][1:] == [earlier, earlier]


async def test_corrections_and_rescinds_arrive_live_in_log_order(
    server: LiveServer, client: httpx.AsyncClient, database: str
) -> None:
    start = await log_position(database)
    async with subscribed(server, FEED, {"after": start}) as ws:
        person, promotion = await promoted(client)
        await correct(client, person, promotion, rationale="Led the pricing launch.")
        await rescind(client, person, promotion)
        received = await collect(ws, 3)
        assert await nothing_more(ws)
    assert [m["change"] for m in received] == ["RECORDED", "CORRECTED", "RESCINDED"]
    assert [m["position"] for m in received] == await change_positions(database, start)
    assert received[1]["changedFields"] == ["rationale"]
    assert received[1]["rationale"] == received[2]["rationale"] == "Led the pricing launch."


async def test_corrections_of_events_other_than_promotions_are_not_in_the_feed(
    server: LiveServer, client: httpx.AsyncClient, database: str
) -> None:
    person = await hire(client, level="pm", prior_years=6)
    start = await log_position(database)
    hire_id = person["events"][0]["eventId"]
    await correct(client, person["personId"], hire_id, name="Ada King")
    async with subscribed(server, FEED, {"after": start}) as ws:
        assert await nothing_more(ws)


async def test_the_track_filter_applies_to_corrections_and_rescinds(
    server: LiveServer, client: httpx.AsyncClient, database: str
) -> None:
    start = await log_position(database)
    person, promotion = await promoted(client)
    await rescind(client, person, promotion)
    async with subscribed(server, FEED, {"after": start, "track": "engineering"}) as ws:
        assert await nothing_more(ws)
    async with subscribed(server, FEED, {"after": start, "track": "product"}) as ws:
        assert [m["change"] for m in await collect(ws, 2)] == ["RECORDED", "RESCINDED"]


async def test_a_withdrawn_correction_and_an_undone_rescission_reach_the_feed_and_the_views(
    server: LiveServer, client: httpx.AsyncClient, database: str
) -> None:
    start = await log_position(database)
    person, promotion = await promoted(client, days_ago=40)
    recorded_on = (TODAY - timedelta(days=40)).isoformat()
    earlier = (TODAY - timedelta(days=41)).isoformat()
    await correct(client, person, promotion, effectiveOn=earlier)
    correction = await last_event_id(client, person, "EventCorrected")
    await rescind(client, person, correction)  # the correction is withdrawn
    await rescind(client, person, promotion)
    rescission = await last_event_id(client, person, "EventRescinded")
    await rescind(client, person, rescission)  # the rescission is undone
    async with subscribed(server, FEED, {"after": start}) as ws:
        received = await collect(ws, 5)
        assert await nothing_more(ws)
    assert [m["change"] for m in received] == [
        "RECORDED",
        "CORRECTED",
        "CORRECTED",
        "RESCINDED",
        "RESTORED",
    ]
    assert [m["inForce"] for m in received] == [True, True, True, False, True]
    assert [m["effectiveOn"] for m in received] == [
        recorded_on,
        earlier,
        recorded_on,
        recorded_on,
        recorded_on,
    ]
    assert received[2]["changedFields"] == ["effectiveOn"]
    assert [m["position"] for m in received] == await change_positions(database, start)
    body = await gql(
        client,
        """query($id: ID!) {
          person(id: $id) {
            levelKey
            timeline { type effectiveOn corrected rescinded }
            careerHistory { levelKey events { type effectiveOn } }
          }
        }""",
        {"id": person},
    )
    assert "errors" not in body, body
    found = body["data"]["person"]
    assert found["levelKey"] == "senior_pm"
    [fact] = [e for e in found["timeline"] if e["type"] == "PromotionRecorded"]
    assert fact == {
        "type": "PromotionRecorded",
        "effectiveOn": recorded_on,
        "corrected": False,
        "rescinded": False,
    }
    assert found["careerHistory"]["levelKey"] == "senior_pm"
    assert {"type": "PromotionRecorded", "effectiveOn": recorded_on} in found["careerHistory"][
        "events"
    ]


async def last_event_id(client: httpx.AsyncClient, person: str, type_: str) -> str:
    body = await gql(
        client,
        """query($id: ID!) { auditTrail(personId: $id) { events { eventId type } } }""",
        {"id": person},
    )
    assert "errors" not in body, body
    events = [e for e in body["data"]["auditTrail"]["events"] if e["type"] == type_]
    return str(events[-1]["eventId"])
