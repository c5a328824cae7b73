"""``/metrics``: scraped over HTTP from the real app on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.services import runtime_services
from domain.events import PersonHired
from events.db import create_engine
from events.service import encode, person_stream
from events.sql_store import SqlEventStore
from tests.e2e.conftest import LiveServer, StartServer, make_settings, serve
from tests.e2e.live_api import (
    HIRED_LONG_AGO,
    backend_url,
    gql,
    hire,
    log_position,
    next_data,
    promote,
    run_mutation,
    subscribed,
)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(server: LiveServer, **headers: str) -> Samples:
    async with server.client() as client:
        response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def database(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    with backend_url(request.param, str(tmp_path)) as url:
        yield url


@pytest.fixture
def server(database: str) -> Iterator[LiveServer]:
    settings = make_settings(database_url=database)
    with serve(create_app(settings, bootstrap=runtime_services), settings) as live:
        yield live


async def test_requests_mutations_events_and_lag_are_counted(server: LiveServer) -> None:
    async with server.client() as client:
        person = (await hire(client, level="apm"))["personId"]
        await promote(client, person, "pm", date(2015, 1, 5))
        refused = await run_mutation(
            client,
            "recordPromotion",
            {
                "personId": person,
                "toLevel": "director",
                "effectiveOn": "2016-01-04",
                "rationale": "Too soon",
            },
        )
        assert refused["errors"][0]["code"] == "LEVEL_SKIPPED"
        await gql(client, 'query Ladder { ladder(track: "product") { name } }')
    samples = await scrape(server)

    requests = "ladder_graphql_requests_total"
    assert value(samples, requests, operation="Hire", type="mutation", status="200") == 1
    assert value(samples, requests, operation="Run", type="mutation", status="200") == 1
    assert value(samples, requests, operation="Ladder", type="query", status="200") == 1
    latency = "ladder_graphql_request_duration_seconds_count"
    assert value(samples, latency, operation="Promote", type="mutation") == 1
    outcomes = "ladder_mutations_total"
    assert value(samples, outcomes, mutation="hirePerson", outcome="ok") == 1
    assert value(samples, outcomes, mutation="recordPromotion", outcome="ok") == 1
    assert value(samples, outcomes, mutation="recordPromotion", outcome="LEVEL_SKIPPED") == 1
    appended = "ladder_events_appended_total"
    assert value(samples, appended, type="PersonHired") == 1
    assert value(samples, appended, type="PromotionRecorded") == 1
    assert value(samples, "ladder_log_position") == await log_position(server.settings.database_url)
    lags = {
        dict(labels)["projection"]: v
        for (name, labels), v in samples.items()
        if name == "ladder_projection_lag_events"
    }
    assert lags and set(lags.values()) == {0.0}


async def test_an_event_the_projections_have_not_applied_shows_as_lag(
    server: LiveServer,
) -> None:
    # Appended behind the server's back, so nothing wakes it: on SQLite it reads the log
    # again only at its next write; on PostgreSQL its follower also polls every second, so
    # it may have caught up by the scrape.
    url = server.settings.database_url
    engine = create_engine(url)
    try:
        store = SqlEventStore(engine)
        person = uuid.uuid4()
        hired = PersonHired(
            person, HIRED_LONG_AGO, "Lag", "lag@example.com", "product", "pm", 0.0, None, 1
        )
        await store.append(person_stream(person), [encode(hired)], "no_stream")
    finally:
        await engine.dispose()
    samples = await scrape(server)
    people = value(samples, "ladder_projection_lag_events", projection="people")
    if people == 0:  # PostgreSQL: the server heard the NOTIFY and caught up first
        assert "postgresql" in url
        return
    assert people == 1
    assert value(samples, "ladder_projection_lag_seconds", projection="people") > 0


async def test_open_subscriptions_and_their_messages_are_counted(server: LiveServer) -> None:
    query = "subscription { promotions(afterPosition: 0) { position } }"
    async with server.client() as client:
        person = (await hire(client, level="apm"))["personId"]
        await promote(client, person, "pm", date(2015, 1, 5))
    labels = {"subscription": "promotions", "transport": "websocket"}
    async with subscribed(server, query) as ws:
        await next_data(ws)
        samples = await scrape(server)
        assert value(samples, "ladder_subscriptions_open", **labels) == 1
        assert value(samples, "ladder_subscription_messages_total", **labels) == 1
    for _ in range(50):
        if value(await scrape(server), "ladder_subscriptions_open", **labels) == 0:
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the closed subscription is still counted as open")


async def test_metrics_need_the_token_when_one_is_set(start_server: StartServer) -> None:
    live = start_server(settings=make_settings(metrics_token="scrape-secret"))
    async with live.client() as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
    samples = await scrape(live, authorization="Bearer scrape-secret")
    assert ("ladder_log_position", frozenset()) in samples


@pytest.mark.parametrize(
    "overrides", [{"env": "production"}, {"metrics": False}], ids=["production", "off"]
)
async def test_metrics_are_not_served_when_off(
    start_server: StartServer, overrides: dict[str, object]
) -> None:
    live = start_server(settings=make_settings(**overrides))
    async with live.client() as client:
        response = await client.get("/metrics")
    assert response.status_code == 404


async def test_request_errors_are_counted_by_status(
    client: httpx.AsyncClient, live_server: LiveServer
) -> None:
    await client.post(
        "/graphql",
        json={"query": "query Broken { nope }"},
        headers={"accept": "application/graphql-response+json"},
    )
    samples = await scrape(live_server)
    assert (
        value(
            samples, "ladder_graphql_requests_total", operation="Broken", type="query", status="400"
        )
        >= 1
    )


async def test_a_poison_event_degrades_one_read_model_and_the_service_keeps_answering(
    server: LiveServer,
) -> None:
    # An event no read model can apply, written behind the API (as an older version might
    # have): the projector skips it as a dead letter; writes, reads, /readyz and /metrics go on.
    url = server.settings.database_url
    engine = create_engine(url)
    try:
        store = SqlEventStore(engine)
        person = uuid.uuid4()
        hired = PersonHired(
            person, HIRED_LONG_AGO, "Poison", "poison@example.com", "product", "pm", 0.0, None, 1
        )
        event = encode(hired)
        poison = type(event)(
            type=event.type,
            data={**event.data, "effective_on": "not-a-date"},
            schema_version=event.schema_version,
            event_id=event.event_id,
        )
        await store.append(person_stream(person), [poison], "no_stream")
    finally:
        await engine.dispose()
    async with server.client() as client:
        after = await hire(client, level="apm")  # the command's catch-up meets the poison
        assert after["personId"]
        body = await gql(client, "{ people(first: 5) { edges { node { name } } } }")
        assert "errors" not in body
        ready = (await client.get("/readyz")).json()
    assert ready["status"] == "degraded"
    assert {d["projection"] for d in ready["degraded"]} >= {"people"}
    samples = await scrape(server)
    assert value(samples, "ladder_projection_dead_letters", projection="people") == 1
    assert value(samples, "ladder_projection_dead_letters", projection="ladders") == 0
