"""A bare date in ``knownAt`` (GraphQL) and ``--known-at`` (CLI) means the same thing: the
end of that day in UTC. Both read the same database, on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.live_api import HIRE, HR, backend_url, new_id, runtime_server
from tests.integration.cli.helpers import with_db

HISTORY = """query($id: ID!, $knownAt: DateTime) {
  careerHistory(personId: $id, knownAt: $knownAt) { knownAt knownPosition }
}"""
CENSUS = """query($knownAt: DateTime) { levelCensus(knownAt: $knownAt) { knownAt total } }"""


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
    with backend_url(request.param, str(tmp_path_factory.mktemp("dates"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


def graphql(server: LiveServer, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        server.graphql_url,
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {HR}", "accept": "application/json"},
        timeout=10.0,
    )
    body = response.json()
    assert isinstance(body, dict)
    return body


@pytest.fixture(scope="module")
def hired(server: LiveServer) -> dict[str, Any]:
    """Someone hired (so recorded) today: the hire's payload, and ``uuid`` for the CLI."""
    person = new_id()
    hire = {
        "personId": person,
        "name": "Grace Hopper",
        "email": f"{person[:8]}@example.com",
        "track": "product",
        "level": "pm",
        "hiredOn": "2019-03-04",
        "priorYears": 2,
    }
    payload = graphql(server, HIRE, {"input": hire})["data"]["hirePerson"]
    assert payload["errors"] == [], payload
    assert isinstance(payload, dict)
    return {**payload, "uuid": person}


def days(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def replay(database: str, person: str, known_at: str) -> dict[str, Any]:
    ran = with_db(database, "replay", person, "--known-at", known_at, "--json")
    assert ran.exit_code == 0, ran.stderr
    report = json.loads(ran.stdout)
    assert isinstance(report, dict)
    return report


def test_a_bare_known_at_date_in_graphql_means_the_end_of_that_day_in_utc(
    server: LiveServer, hired: dict[str, Any]
) -> None:
    today = graphql(server, HISTORY, {"id": hired["personId"], "knownAt": days(0)})
    assert today["data"]["careerHistory"] == {
        "knownAt": f"{days(0)}T23:59:59.999999+00:00",
        "knownPosition": hired["position"],
    }
    census = graphql(server, CENSUS, {"knownAt": days(0)})["data"]["levelCensus"]
    assert census["knownAt"] == f"{days(0)}T23:59:59.999999+00:00"
    assert census["total"] >= 1


def test_a_bare_known_at_date_before_the_recording_day_knows_nothing_of_it(
    server: LiveServer, hired: dict[str, Any]
) -> None:
    before = graphql(server, HISTORY, {"id": hired["personId"], "knownAt": days(-1)})
    assert [e["extensions"]["code"] for e in before["errors"]] == ["NOT_FOUND"]
    assert graphql(server, CENSUS, {"knownAt": days(-1)})["data"]["levelCensus"]["total"] == 0


def test_the_cli_reads_a_bare_known_at_date_as_graphql_does(
    database: str, server: LiveServer, hired: dict[str, Any]
) -> None:
    report = replay(database, hired["uuid"], days(0))
    assert report["known_at"] == f"{days(0)}T23:59:59.999999+00:00"
    assert report["events_known"] == 1
    ran = with_db(database, "replay", hired["uuid"], "--known-at", days(-1))
    assert ran.exit_code == 0, ran.stderr
    assert "The log knew nothing of this person at that time." in ran.stdout


def test_a_time_without_a_zone_is_utc_in_graphql_and_the_cli(
    database: str, server: LiveServer, hired: dict[str, Any]
) -> None:
    moment = f"{days(0)}T23:59:59"
    shown = graphql(server, HISTORY, {"id": hired["personId"], "knownAt": moment})
    assert shown["data"]["careerHistory"]["knownAt"] == f"{moment}+00:00"
    assert replay(database, hired["uuid"], moment)["known_at"] == f"{moment}+00:00"
    shifted = f"{days(1)}T01:59:59+02:00"  # the same instant, written in another zone
    assert replay(database, hired["uuid"], shifted)["known_at"] == f"{moment}+00:00"
    other = graphql(server, HISTORY, {"id": hired["personId"], "knownAt": shifted})
    assert other["data"]["careerHistory"]["knownAt"] == f"{moment}+00:00"
