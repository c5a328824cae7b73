"""``careerHistory`` is complete (mentorships, as mentor and as mentee) and list-safe (null,
with no error, for someone not yet hired on ``asOf``), on both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.live_api import (
    TODAY,
    backend_url,
    gql,
    hire,
    run_mutation,
    runtime_server,
)

HISTORY = """query($id: ID!, $asOf: Date) {
  person(id: $id) { careerHistory(asOf: $asOf) { events { type effectiveOn } } }
  careerHistory(personId: $id, asOf: $asOf) { events { type effectiveOn } }
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
    with backend_url(request.param, str(tmp_path_factory.mktemp("history"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


async def types_in_history(client: httpx.AsyncClient, person: str, as_of: str | None) -> list[str]:
    body = await gql(client, HISTORY, {"id": person, "asOf": as_of})
    assert "errors" not in body, body
    on_person = body["data"]["person"]["careerHistory"]["events"]
    assert on_person == body["data"]["careerHistory"]["events"]
    return [e["type"] for e in on_person]


async def test_career_history_lists_mentorships_as_mentor_and_as_mentee(
    client: httpx.AsyncClient,
) -> None:
    mentor = (await hire(client, level="director", prior_years=12))["personId"]
    mentee = (await hire(client, level="apm"))["personId"]
    started = await run_mutation(
        client,
        "startMentorship",
        {
            "mentorId": mentor,
            "menteeId": mentee,
            "effectiveOn": (TODAY - timedelta(days=20)).isoformat(),
        },
        extra="mentorshipId",
    )
    assert started["errors"] == [], started
    ended = await run_mutation(
        client,
        "endMentorship",
        {
            "mentorshipId": started["mentorshipId"],
            "personId": mentee,
            "effectiveOn": (TODAY - timedelta(days=5)).isoformat(),
            "outcome": "Ran discovery alone.",
        },
    )
    assert ended["errors"] == [], ended
    for person in (mentor, mentee):
        full = ["PersonHired", "MentorshipStarted", "MentorshipEnded"]
        assert await types_in_history(client, person, None) == full
        during = (TODAY - timedelta(days=10)).isoformat()
        assert await types_in_history(client, person, during) == full[:2]


async def test_career_history_as_of_a_day_before_the_hire_is_null_without_error(
    client: httpx.AsyncClient,
) -> None:
    person = (await hire(client, hired_on=TODAY - timedelta(days=30)))["personId"]
    before = (TODAY - timedelta(days=31)).isoformat()
    body = await gql(
        client,
        """query($id: ID!, $asOf: Date) {
          person(id: $id) { name careerHistory(asOf: $asOf) { levelKey } }
        }""",
        {"id": person, "asOf": before},
    )
    assert "errors" not in body, body
    assert body["data"]["person"]["careerHistory"] is None
    assert body["data"]["person"]["name"].startswith("Person ")


async def test_one_person_not_yet_hired_does_not_null_a_page_of_people(
    client: httpx.AsyncClient,
) -> None:
    await hire(client, hired_on=TODAY - timedelta(days=3000))
    await hire(client, hired_on=TODAY - timedelta(days=10))
    as_of = (TODAY - timedelta(days=100)).isoformat()
    body = await gql(
        client,
        """query($asOf: Date) {
          people(first: 50) { edges { node { id careerHistory(asOf: $asOf) { levelKey } } } }
        }""",
        {"asOf": as_of},
    )
    assert "errors" not in body, body
    histories = [e["node"]["careerHistory"] for e in body["data"]["people"]["edges"]]
    assert None in histories
    assert any(h is not None for h in histories)
