"""``erasePersonalData`` over HTTP and WebSocket, on both backends: the person reads as
erased, the audit trail still verifies, subscribers hear the erasure."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.live_api import (
    backend_url,
    gql,
    hire,
    log_position,
    new_id,
    next_data,
    run_mutation,
    runtime_server,
    subscribed,
)

CAREER = """
subscription($person: ID!) {
  careerEvents(personId: $person, afterPosition: 0) { position type data }
}
"""
PERSON = "query($id: ID!) { person(id: $id) { name email erased levelKey hiredOn } }"
TRAIL = """
query($id: ID!) {
  auditTrail(personId: $id) { events { type data } verification { ok eventsChecked } }
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
    with backend_url(request.param, str(tmp_path_factory.mktemp("erasure"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


async def _erase(client: httpx.AsyncClient, person: str) -> dict[str, Any]:
    return await run_mutation(
        client,
        "erasePersonalData",
        {"personId": person, "reason": "RETENTION_EXPIRED", "reference": "HR-2026-17"},
        extra="person { name erased }",
    )


async def test_an_erased_person_reads_as_erased_and_subscribers_hear_it(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    person = (await hire(client, level="pm"))["personId"]
    before = (await gql(client, PERSON, {"id": person}))["data"]["person"]
    assert before["name"].startswith("Person ") and before["erased"] is False
    async with subscribed(server, CAREER, {"person": person}) as ws:
        assert (await next_data(ws))["careerEvents"]["type"] == "PersonHired"
        payload = await _erase(client, person)
        assert payload["errors"] == []
        assert payload["person"] == {"name": "", "erased": True}
        heard = (await next_data(ws))["careerEvents"]
    assert heard["type"] == "PersonalDataErased"
    assert heard["data"]["reason"] == "RETENTION_EXPIRED"
    after = (await gql(client, PERSON, {"id": person}))["data"]["person"]
    assert after == {**before, "name": "", "email": "", "erased": True}


async def test_the_audit_trail_of_an_erased_person_still_verifies(
    client: httpx.AsyncClient,
) -> None:
    person = (await hire(client, level="pm"))["personId"]
    await _erase(client, person)
    trail = (await gql(client, TRAIL, {"id": person}))["data"]["auditTrail"]
    assert trail["verification"] == {"ok": True, "eventsChecked": 2}
    assert trail["events"][0]["data"]["name"] == ""
    assert [e["type"] for e in trail["events"]] == ["PersonHired", "PersonalDataErased"]


async def test_erasing_twice_or_an_unknown_person_is_refused_with_nothing_written(
    client: httpx.AsyncClient, database: str
) -> None:
    person = (await hire(client, level="pm"))["personId"]
    await _erase(client, person)
    position = await log_position(database)
    again = await _erase(client, person)
    assert [(e["code"], e["field"]) for e in again["errors"]] == [
        ("PERSONAL_DATA_ALREADY_ERASED", "personId")
    ]
    unknown = await _erase(client, new_id())
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [
        ("PERSON_NOT_FOUND", "personId")
    ]
    assert await log_position(database) == position


HISTORY = "query($id: ID!) { person(id: $id) { careerHistory { events { type data } } } }"


async def _started_goals(client: httpx.AsyncClient, person: str) -> list[str]:
    body = await gql(client, HISTORY, {"id": person})
    assert "errors" not in body, body
    events = body["data"]["person"]["careerHistory"]["events"]
    started = [e["data"] for e in events if e["type"] == "MentorshipStarted"]
    assert len(started) == 1
    goals: list[str] = started[0]["goals"]
    return goals


async def test_a_mentors_history_read_before_the_mentees_erasure_no_longer_shows_their_goals(
    client: httpx.AsyncClient,
) -> None:
    # The mentor's stream holds the mentee's goals (sealed under the mentee's key) and does
    # not change when the mentee is erased: a view of it read before must not be served.
    mentor = (await hire(client, level="director", prior_years=12))["personId"]
    mentee = (await hire(client, level="apm"))["personId"]
    started = await run_mutation(
        client,
        "startMentorship",
        {
            "mentorId": mentor,
            "menteeId": mentee,
            "effectiveOn": "2026-01-05",
            "goals": ["Run discovery alone"],
        },
    )
    assert started["errors"] == [], started
    assert await _started_goals(client, mentor) == ["Run discovery alone"]
    assert await _started_goals(client, mentor) == ["Run discovery alone"]  # kept, served again
    assert (await _erase(client, mentee))["errors"] == []
    assert await _started_goals(client, mentor) == []
