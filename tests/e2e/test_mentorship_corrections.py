"""A mentorship's start and end can be corrected by a new event, in both people's streams
at once, with the bitemporal guarantees of any correction: ``careerHistory(asOf:)`` and
the mentorships list show the corrected dates, ``careerHistory(knownAt:)`` before the
correction still shows what was known then. Over HTTP, on both backends."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.live_api import TODAY, backend_url, gql, hire, run_mutation, runtime_server

HISTORY = """query($id: ID!, $asOf: Date, $knownAt: DateTime) {
  careerHistory(personId: $id, asOf: $asOf, knownAt: $knownAt) { events { type effectiveOn } }
}"""
MENTORSHIPS = """query($mentee: ID!) {
  mentorships(menteeId: $mentee) { nodes { startedOn endedOn outcome goals } }
}"""


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
    with backend_url(request.param, str(tmp_path_factory.mktemp("mentoring"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


def stream(person: str) -> str:
    """The stream of a person given by global ID (``Person:<uuid>``, base64)."""
    return "person-" + base64.b64decode(person).decode().split(":", 1)[1]


def day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


async def started_mentorship(client: httpx.AsyncClient) -> tuple[str, str, str, str]:
    """(mentor, mentee, mentorship id, the mentee's copy of the start's event id)."""
    mentor = (await hire(client, level="director", prior_years=12))["personId"]
    mentee = (await hire(client, level="apm"))["personId"]
    started = await run_mutation(
        client,
        "startMentorship",
        {"mentorId": mentor, "menteeId": mentee, "effectiveOn": day(20), "goals": ["Discovery"]},
        extra="mentorshipId",
    )
    assert started["errors"] == [], started
    [copy] = [e for e in started["events"] if e["stream"] == stream(mentee)]
    return mentor, mentee, started["mentorshipId"], copy["eventId"]


async def history(client: httpx.AsyncClient, person: str, **variables: Any) -> list[Any]:
    body = await gql(client, HISTORY, {"id": person, **variables})
    assert "errors" not in body, body
    return [(e["type"], e["effectiveOn"]) for e in body["data"]["careerHistory"]["events"]]


async def test_a_mentorship_start_date_is_corrected_in_both_streams_and_known_at_keeps_the_past(
    client: httpx.AsyncClient,
) -> None:
    mentor, mentee, _, start = await started_mentorship(client)
    await asyncio.sleep(0.05)
    before = datetime.now(UTC).isoformat()
    await asyncio.sleep(0.05)
    fixed = await run_mutation(
        client,
        "correctEvent",
        {
            "personId": mentee,
            "targetEventId": start,
            "changes": {"effectiveOn": day(30), "goals": ["Discovery", "Pricing"]},
            "reason": "The first session was ten days earlier.",
        },
    )
    assert fixed["errors"] == [], fixed
    assert sorted(e["stream"] for e in fixed["events"]) == sorted(
        stream(p) for p in (mentor, mentee)
    )
    for person in (mentor, mentee):
        assert ("MentorshipStarted", day(30)) in await history(client, person, asOf=day(25))
        known = await history(client, person, asOf=day(25), knownAt=before)
        assert [t for t, _ in known] == ["PersonHired"]
        assert ("MentorshipStarted", day(20)) in await history(client, person, knownAt=before)
    body = await gql(client, MENTORSHIPS, {"mentee": mentee})
    [node] = body["data"]["mentorships"]["nodes"]
    assert (node["startedOn"], node["goals"]) == (day(30), ["Discovery", "Pricing"])


async def test_a_mentorship_end_is_corrected_and_cannot_move_before_its_start(
    client: httpx.AsyncClient,
) -> None:
    _, mentee, mentorship, _ = await started_mentorship(client)
    ended = await run_mutation(
        client,
        "endMentorship",
        {"mentorshipId": mentorship, "personId": mentee, "effectiveOn": day(5), "outcome": "Ok."},
    )
    assert ended["errors"] == [], ended
    [end] = [e["eventId"] for e in ended["events"] if e["stream"] == stream(mentee)]
    early = await run_mutation(
        client,
        "correctEvent",
        {
            "personId": mentee,
            "targetEventId": end,
            "changes": {"effectiveOn": day(25)},
            "reason": "x",
        },
    )
    assert [e["code"] for e in early["errors"]] == ["END_BEFORE_START"]
    fixed = await run_mutation(
        client,
        "correctEvent",
        {
            "personId": mentee,
            "targetEventId": end,
            "changes": {"effectiveOn": day(8), "outcome": "Ran discovery alone."},
            "reason": "The last session was earlier.",
        },
    )
    assert fixed["errors"] == [], fixed
    body = await gql(client, MENTORSHIPS, {"mentee": mentee})
    [node] = body["data"]["mentorships"]["nodes"]
    assert (node["endedOn"], node["outcome"]) == (day(8), "Ran discovery alone.")
    who = await run_mutation(
        client,
        "correctEvent",
        {"personId": mentee, "targetEventId": end, "changes": {"mentorId": mentee}, "reason": "x"},
    )
    assert [e["code"] for e in who["errors"]] == ["INVALID_CORRECTION"]
