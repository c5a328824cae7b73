"""Rotations over HTTP, on both backends: a backdated rotation that overlaps nothing is
accepted while a later one runs, and a rotation past its planned end shows as overdue."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.live_api import TODAY, backend_url, gql, hire, run_mutation, runtime_server

STATE = """query($id: ID!) {
  person(id: $id) { activeRotation { hostTeam overdue } }
  promotionReadiness(personId: $id) { rotationOverdue }
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
    with backend_url(request.param, str(tmp_path_factory.mktemp("rotations"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


async def rotate(
    client: httpx.AsyncClient, person: str, team: str, start_days_ago: int, end_days_ago: int
) -> dict[str, Any]:
    return await run_mutation(
        client,
        "startRotation",
        {
            "personId": person,
            "hostTeam": team,
            "developmentArea": "analytics",
            "effectiveOn": (TODAY - timedelta(days=start_days_ago)).isoformat(),
            "plannedEndOn": (TODAY - timedelta(days=end_days_ago)).isoformat(),
        },
    )


async def state(client: httpx.AsyncClient, person: str) -> dict[str, Any]:
    body = await gql(client, STATE, {"id": person})
    assert "errors" not in body, body
    data = body["data"]
    assert isinstance(data, dict)
    return data


async def test_a_backdated_rotation_is_accepted_while_a_later_one_runs(
    client: httpx.AsyncClient,
) -> None:
    person = (await hire(client))["personId"]
    assert (await rotate(client, person, "Growth", 30, -60))["errors"] == []
    backdated = await rotate(client, person, "Payments", 400, 300)
    assert backdated["errors"] == [], backdated
    found = await state(client, person)
    assert found["person"]["activeRotation"] == {"hostTeam": "Growth", "overdue": False}
    overlapping = await rotate(client, person, "Search", 100, 20)
    assert [e["code"] for e in overlapping["errors"]] == ["ROTATION_OVERLAP"]


async def test_a_rotation_past_its_planned_end_shows_as_overdue(
    client: httpx.AsyncClient,
) -> None:
    person = (await hire(client))["personId"]
    assert (await rotate(client, person, "Growth", 90, 10))["errors"] == []
    found = await state(client, person)
    assert found["person"]["activeRotation"] == {"hostTeam": "Growth", "overdue": True}
    assert found["promotionReadiness"] == {"rotationOverdue": True}
