"""The org chart over HTTP, on both backends: a manager must exist, be employed on the
effective date and not be managed by the person, directly or indirectly; ``directReports``,
``reports(depth:)`` and ``people(managerId:)`` answer as of a date."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.live_api import (
    HIRED_LONG_AGO,
    TODAY,
    backend_url,
    gql,
    hire,
    new_id,
    run_mutation,
    runtime_server,
)


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
    with backend_url(request.param, str(tmp_path_factory.mktemp("orgchart"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


def refusal(payload: dict[str, Any]) -> list[tuple[str, str]]:
    assert payload["position"] is None, payload
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def change_manager(client: httpx.AsyncClient, person: str, manager: str) -> dict[str, Any]:
    return await run_mutation(
        client,
        "changeManager",
        {"personId": person, "managerId": manager, "effectiveOn": TODAY.isoformat()},
    )


def hire_input(manager: str, hired_on: str) -> dict[str, Any]:
    person = new_id()
    return {
        "personId": person,
        "name": "Ada Lovelace",
        "email": f"{person[:8]}@example.com",
        "track": "product",
        "level": "apm",
        "hiredOn": hired_on,
        "managerId": manager,
    }


async def test_hiring_under_a_manager_who_does_not_exist_is_refused(
    client: httpx.AsyncClient,
) -> None:
    payload = await run_mutation(client, "hirePerson", hire_input(new_id(), "2020-01-06"))
    assert refusal(payload) == [("MANAGER_NOT_FOUND", "managerId")]


async def test_hiring_under_a_manager_not_yet_hired_then_is_refused(
    client: httpx.AsyncClient,
) -> None:
    manager = await hire(client, level="director", hired_on=TODAY - timedelta(days=10))
    early = (TODAY - timedelta(days=20)).isoformat()
    payload = await run_mutation(client, "hirePerson", hire_input(manager["personId"], early))
    assert refusal(payload) == [("MANAGER_NOT_EMPLOYED", "managerId")]


async def test_a_manager_who_left_cannot_be_given_reports(client: httpx.AsyncClient) -> None:
    manager = (await hire(client, level="director", prior_years=12))["personId"]
    person = (await hire(client))["personId"]
    left = await run_mutation(
        client,
        "recordDeparture",
        {
            "personId": manager,
            "effectiveOn": (TODAY - timedelta(days=3)).isoformat(),
            "reason": "Moved abroad.",
        },
    )
    assert left["errors"] == [], left
    assert refusal(await change_manager(client, person, manager)) == [
        ("MANAGER_NOT_EMPLOYED", "managerId")
    ]


async def test_a_change_of_manager_that_would_make_a_cycle_is_refused(
    client: httpx.AsyncClient,
) -> None:
    top = (await hire(client, level="director", prior_years=12))["personId"]
    middle = (await hire(client, level="group_pm", prior_years=9, manager_id=top))["personId"]
    bottom = (await hire(client, level="pm", prior_years=3, manager_id=middle))["personId"]
    assert refusal(await change_manager(client, top, middle)) == [("MANAGER_CYCLE", "managerId")]
    assert refusal(await change_manager(client, top, bottom)) == [("MANAGER_CYCLE", "managerId")]
    assert (await change_manager(client, bottom, top))["errors"] == []


async def test_racing_changes_of_manager_over_http_never_close_a_ring(
    client: httpx.AsyncClient,
) -> None:
    for size in (2, 3, 4):
        ring = [(await hire(client, level="pm", prior_years=3))["personId"] for _ in range(size)]
        payloads = await asyncio.gather(
            *(change_manager(client, p, ring[(i + 1) % size]) for i, p in enumerate(ring))
        )
        codes = [e["code"] for p in payloads for e in p["errors"]]
        assert codes, payloads  # the whole ring cannot be written
        assert set(codes) <= {"MANAGER_CYCLE", "CONCURRENCY_CONFLICT"}, codes
        managers: dict[str, str | None] = {}
        for person in ring:
            body = await gql(
                client, "query($id: ID!) { person(id: $id) { manager { id } } }", {"id": person}
            )
            manager = body["data"]["person"]["manager"]
            managers[person] = manager["id"] if manager else None
        assert any(m in managers for m in managers.values())  # some changes were written
        for start in ring:  # following managers from anyone ends outside the ring
            seen, current = {start}, managers[start]
            while current in managers:
                assert current not in seen, managers
                seen.add(current)
                current = managers[current]


async def test_rehiring_under_one_of_ones_former_reports_is_refused_when_it_loops(
    client: httpx.AsyncClient,
) -> None:
    boss = (await hire(client, level="director", hired_on=HIRED_LONG_AGO))["personId"]
    report = (await hire(client, level="group_pm", manager_id=boss))["personId"]
    left = await run_mutation(
        client,
        "recordDeparture",
        {
            "personId": boss,
            "effectiveOn": (TODAY - timedelta(days=30)).isoformat(),
            "reason": "Career break.",
        },
    )
    assert left["errors"] == [], left
    rehire = {
        "personId": boss,
        "effectiveOn": TODAY.isoformat(),
        "track": "product",
        "level": "director",
        "managerId": report,
    }
    payload = await run_mutation(client, "rehirePerson", rehire)
    assert refusal(payload) == [("MANAGER_CYCLE", "managerId")]


CHART = """query($id: ID!, $asOf: Date, $depth: Int) {
  person(id: $id) {
    directReports(asOf: $asOf) { personId }
    reports(depth: $depth, asOf: $asOf) { personId }
  }
}"""


async def chart_of(
    client: httpx.AsyncClient, person: str, as_of: str | None = None, depth: int | None = None
) -> tuple[list[str], list[str]]:
    body = await gql(client, CHART, {"id": person, "asOf": as_of, "depth": depth})
    assert "errors" not in body, body
    found = body["data"]["person"]
    return (
        [p["personId"] for p in found["directReports"]],
        [p["personId"] for p in found["reports"]],
    )


def uuid_of(global_id: str) -> str:
    from api.scopes import parse_id_text

    return parse_id_text(global_id)


async def test_direct_reports_and_reports_by_depth_follow_the_chart_as_of_a_date(
    client: httpx.AsyncClient,
) -> None:
    top = (await hire(client, level="director", prior_years=12))["personId"]
    middle = (await hire(client, level="group_pm", prior_years=9, manager_id=top))["personId"]
    low = [(await hire(client, manager_id=middle))["personId"] for _ in range(2)]
    leaver = (await hire(client, manager_id=middle))["personId"]
    gone = await run_mutation(
        client,
        "recordDeparture",
        {"personId": leaver, "effectiveOn": TODAY.isoformat(), "reason": "Moved abroad."},
    )
    assert gone["errors"] == [], gone
    moved = await run_mutation(
        client,
        "changeManager",
        {
            "personId": low[1],
            "managerId": top,
            "effectiveOn": (TODAY - timedelta(days=10)).isoformat(),
        },
    )
    assert moved["errors"] == [], moved
    today = [uuid_of(low[0]), uuid_of(leaver)]  # a departure's day is still a working day
    direct, everyone = await chart_of(client, middle)
    assert sorted(direct) == sorted(today)
    assert sorted(everyone) == sorted(today)
    direct, everyone = await chart_of(client, top, depth=1)
    assert sorted(direct) == sorted(everyone) == sorted([uuid_of(middle), uuid_of(low[1])])
    _, below = await chart_of(client, top)
    assert set(below[:2]) == {uuid_of(middle), uuid_of(low[1])}  # nearest first
    assert sorted(below[2:]) == sorted(today)
    earlier = (TODAY - timedelta(days=20)).isoformat()
    direct, _ = await chart_of(client, middle, as_of=earlier)
    assert sorted(direct) == sorted([*map(uuid_of, low), uuid_of(leaver)])
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert (await chart_of(client, middle, as_of=tomorrow))[0] == [uuid_of(low[0])]


async def test_reports_refuse_a_depth_below_one(client: httpx.AsyncClient) -> None:
    person = (await hire(client))["personId"]
    body = await gql(client, CHART, {"id": person, "depth": 0})
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
        ("INVALID_ARGUMENT", "depth")
    ]


async def test_people_filtered_by_manager_as_of_a_date(client: httpx.AsyncClient) -> None:
    boss = (await hire(client, level="director", prior_years=12))["personId"]
    other = (await hire(client, level="director", prior_years=12))["personId"]
    report = (await hire(client, manager_id=boss))["personId"]
    moved = await run_mutation(
        client,
        "changeManager",
        {
            "personId": report,
            "managerId": other,
            "effectiveOn": (TODAY - timedelta(days=5)).isoformat(),
        },
    )
    assert moved["errors"] == [], moved
    query = """query($boss: ID!, $asOf: Date) {
      people(first: 50, managerId: $boss, asOf: $asOf) { edges { node { personId } } }
    }"""

    async def listed(manager: str, as_of: str | None = None) -> list[str]:
        body = await gql(client, query, {"boss": manager, "asOf": as_of})
        assert "errors" not in body, body
        return [e["node"]["personId"] for e in body["data"]["people"]["edges"]]

    assert await listed(other) == [uuid_of(report)]
    assert await listed(boss) == []
    assert await listed(boss, (TODAY - timedelta(days=30)).isoformat()) == [uuid_of(report)]
