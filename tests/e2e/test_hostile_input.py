"""Hostile input is refused at the edge with a stable code and the field at fault, writes
nothing, and never stops the service for anyone else (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from api.auth import Role
from tests.e2e.conftest import LiveServer, mint
from tests.e2e.live_api import (
    HIRED_LONG_AGO,
    backend_url,
    gql,
    ladder_input,
    log_position,
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
    with backend_url(request.param, str(tmp_path_factory.mktemp("hostile"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


def hire(**changes: Any) -> dict[str, Any]:
    return {
        "personId": new_id(),
        "name": "Grace Hopper",
        "email": f"grace-{new_id()[:8]}@example.com",
        "track": "product",
        "level": "apm",
        "hiredOn": HIRED_LONG_AGO.isoformat(),
        **changes,
    }


async def raw_post(client: httpx.AsyncClient, body: str | bytes) -> httpx.Response:
    return await client.post(
        "/graphql",
        content=body,
        headers={
            "content-type": "application/json",
            "accept": "application/json",
            "authorization": f"Bearer {mint(Role.HR, 'hr-1')}",
        },
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "Bell\x07Ringer"}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"email": "a\x1b@example.com"}, "email"),
        ({"hiredOn": "0001-01-01"}, "hiredOn"),
    ],
    ids=["control-character", "too-long", "escape-in-email", "ancient-date"],
)
async def test_a_hire_with_a_bad_string_or_date_is_refused_naming_the_field(
    client: httpx.AsyncClient, database: str, changes: dict[str, Any], field: str
) -> None:
    before = await log_position(database)
    payload = await run_mutation(client, "hirePerson", hire(**changes))
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("VALIDATION_ERROR", field)]
    assert await log_position(database) == before


async def test_a_nul_or_lone_surrogate_anywhere_in_a_request_is_a_400(
    client: httpx.AsyncClient, database: str
) -> None:
    before = await log_position(database)
    for value in ("Nul\\u0000Name", "half\\ud800pair"):
        body = (
            '{"query": "mutation($i: HirePersonInput!) { hirePerson(input: $i) { position } }",'
            f' "variables": {{"i": {{"name": "{value}", "email": "n@example.com",'
            ' "track": "product", "level": "apm", "hiredOn": "2020-01-06"}}}'
        )
        response = await raw_post(client, body)
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_CHARACTER"
        assert "variables.i.name" in response.json()["errors"][0]["message"]
    assert await log_position(database) == before


async def test_a_nul_in_a_query_argument_is_refused_not_internal(
    client: httpx.AsyncClient,
) -> None:
    body = await gql(client, '{ ladder(track: "pro\\u0000duct") { track } }', token=None)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_CHARACTER"]
    response = await raw_post(
        client,
        '{"query": "query($s: String) { people(search: $s) { edges { cursor } } }",'
        ' "variables": {"s": "a\\u0000"}}',
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_CHARACTER"


@pytest.mark.parametrize("where", ["variables", "extensions"])
async def test_deeply_nested_json_is_a_400_with_a_code(
    client: httpx.AsyncClient, where: str
) -> None:
    deep = "[" * 20_000 + "]" * 20_000
    body = f'{{"query": "{{ __typename }}", "{where}": {{"a": {deep}}}}}'
    response = await raw_post(client, body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "JSON_TOO_DEEP"
    shallow = "[" * 40 + "]" * 40
    response = await raw_post(
        client, f'{{"query": "{{ __typename }}", "{where}": {{"a": {shallow}}}}}'
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "JSON_TOO_DEEP"


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (lambda ladder: {**ladder, "track": "t" * 100}, "is longer than 48"),
        (
            lambda ladder: {
                **ladder,
                "levels": [{**ladder["levels"][0], "key": "k" * 100}, *ladder["levels"][1:]],
            },
            "is longer than 48",
        ),
        (
            lambda ladder: {
                **ladder,
                "developmentAreas": [
                    {**ladder["developmentAreas"][0], "key": "a" * 100},
                    *ladder["developmentAreas"][1:],
                ],
            },
            "is longer than 48",
        ),
        (lambda ladder: {**ladder, "name": "Ladder\x00"}, None),
    ],
    ids=["long-track", "long-level-key", "long-area-key", "nul-in-name"],
)
async def test_a_ladder_no_read_model_could_store_is_refused(
    client: httpx.AsyncClient, database: str, bad: Any, expected: str | None
) -> None:
    before = await log_position(database)
    ladder = bad(ladder_input("hostile", "Hostile"))
    body = await gql(
        client,
        "mutation($i: PublishLadderInput!) "
        "{ publishLadder(input: $i) { errors { code message } } }",
        {"i": ladder},
    )
    if expected is None:  # refused at the edge
        assert body["errors"][0]["extensions"]["code"] == "INVALID_CHARACTER"
    else:
        [error] = body["data"]["publishLadder"]["errors"]
        assert error["code"] == "LADDER_INVALID"
        assert expected in error["message"]
    assert await log_position(database) == before


async def test_idempotency_keys_of_two_callers_never_meet(
    client: httpx.AsyncClient, database: str
) -> None:
    # Caller "hr" with key "a:k" and caller "hr:a" with key "k" used to share "api:hr:a:k".
    first = await run_mutation(
        client, "hirePerson", {**hire(), "idempotencyKey": "a:k"}, token=mint(Role.HR, "hr")
    )
    second = await run_mutation(
        client, "hirePerson", {**hire(), "idempotencyKey": "k"}, token=mint(Role.HR, "hr:a")
    )
    assert first["errors"] == [] and second["errors"] == []
    assert second["replayed"] is False
    assert second["position"] > first["position"]


async def test_the_service_still_writes_and_reads_after_all_of_it(
    client: httpx.AsyncClient,
) -> None:
    payload = await run_mutation(client, "hirePerson", hire(name="After The Storm"))
    assert payload["errors"] == []
    body = await gql(
        client, '{ people(first: 100, search: "After The Storm") { edges { node { name } } } }'
    )
    assert {"node": {"name": "After The Storm"}} in body["data"]["people"]["edges"]
    health = await client.get("/readyz")
    assert health.json() == {"status": "ready"}


async def test_several_operations_without_an_operation_name_are_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await raw_post(
        client, '{"query": "query A { __typename } mutation B { __typename }"}'
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "OPERATION_NAME_REQUIRED"
    named = await raw_post(
        client,
        '{"query": "query A { __typename } query B { __typename }", "operationName": "B"}',
    )
    assert named.json() == {"data": {"__typename": "Query"}}


HEAVY = """{ people(first: 100) { edges { node {
  name careerHistory { events { type } } timeline { type } mentees { name } } } } }"""


async def test_a_query_over_the_cost_limit_is_refused_before_it_runs(
    client: httpx.AsyncClient,
) -> None:
    body = await gql(client, HEAVY)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    assert error["extensions"]["cost"] > error["extensions"]["limit"] == 3000
    assert "data" not in body


async def test_every_answer_reports_its_cost(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ people(first: 50) { edges { node { name level { title } } } } }")
    assert "errors" not in body
    assert body["extensions"]["cost"] == {"requested": 200, "limit": 3000}


async def test_a_cached_cost_still_follows_the_page_size_each_request_gives(
    client: httpx.AsyncClient,
) -> None:
    query = "query($n: Int) { people(first: $n) { edges { node { name level { title } } } } }"
    costs = []
    for n in (50, 10, 50):
        body = await gql(client, query, {"n": n})
        assert "errors" not in body
        costs.append(body["extensions"]["cost"]["requested"])
    assert costs == [200, 40, 200]
    refused = await gql(client, query, {"n": 1000})
    assert refused["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    assert refused["errors"][0]["extensions"]["cost"] == 4000


async def test_of_thirty_identical_requests_exactly_one_writes_and_the_rest_say_replayed(
    server: LiveServer, database: str
) -> None:
    data = {**hire(), "idempotencyKey": f"race-{new_id()[:8]}"}
    before = await log_position(database)

    async def one() -> dict[str, Any]:
        async with server.client() as http:
            return await run_mutation(http, "hirePerson", data)

    payloads = await asyncio.gather(*(one() for _ in range(30)))
    assert all(p["errors"] == [] for p in payloads)
    assert sorted(p["replayed"] for p in payloads) == [False] + [True] * 29
    assert {p["position"] for p in payloads} == {before + 1}
    assert await log_position(database) == before + 1
