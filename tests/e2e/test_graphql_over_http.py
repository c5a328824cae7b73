"""The GraphQL-over-HTTP rules, over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import LiveServer, without_cost
from tests.e2e.probes import ProbeLog

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
VALID = '{ ladder(track: "product") { name } }'
INVALID = '{ ladder(track: "product") { noSuchField } }'


def media(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


async def test_a_valid_query_answers_200_with_data_in_graphql_response_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": VALID}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 200
    assert media(response) == GRAPHQL_RESPONSE
    assert without_cost(response.json()) == {"data": {"ladder": {"name": "Product Management"}}}


async def test_a_missing_accept_header_means_application_json(
    client: httpx.AsyncClient,
) -> None:
    request = client.build_request("POST", "/graphql", json={"query": VALID})
    del request.headers["accept"]
    response = await client.send(request)
    assert response.status_code == 200
    assert media(response) == JSON


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("*/*", JSON),
        (f"{GRAPHQL_RESPONSE}, */*", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE};q=0.5", JSON),
        (JSON, JSON),
        (f"text/html, {JSON};q=0.8", JSON),
    ],
)
async def test_the_response_media_type_follows_the_accept_header(
    client: httpx.AsyncClient, accept: str, expected: str
) -> None:
    response = await client.post("/graphql", json={"query": VALID}, headers={"accept": accept})
    assert response.status_code == 200
    assert media(response) == expected


async def test_an_unacceptable_accept_header_answers_406(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": VALID}, headers={"accept": "text/csv"})
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


async def test_a_validation_error_answers_400_without_data_in_graphql_response_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": INVALID}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    assert media(response) == GRAPHQL_RESPONSE
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_parse_error_answers_400_without_data_in_graphql_response_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ ladder("}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_a_variable_of_the_wrong_type_answers_400_without_data(
    client: httpx.AsyncClient,
) -> None:
    query = "query ($track: String!) { levels(track: $track) { key } }"
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": {"track": 7}},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    assert "data" not in response.json()


async def test_a_validation_error_answers_200_in_legacy_application_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", json={"query": INVALID}, headers={"accept": JSON})
    assert response.status_code == 200
    assert media(response) == JSON
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_field_error_keeps_data_and_answers_200(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": '{ levels(track: "no_such_track") { key } }'},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "UNKNOWN_TRACK", "field": "track"}


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'"a string"',
        b"[]",
        b'{"query": 42}',
        b'{"variables": {}}',
        b'{"query": "{ viewer { role } }", "variables": "x"}',
        b'{"query": "{ viewer { role } }", "operationName": 3}',
        b'{"query": "{ viewer { role } }", "extensions": []}',
    ],
)
@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
async def test_a_body_that_is_not_a_graphql_request_answers_400(
    client: httpx.AsyncClient, body: bytes, accept: str
) -> None:
    response = await client.post(
        "/graphql", content=body, headers={"content-type": JSON, "accept": accept}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_an_unknown_operation_name_answers_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "query A { viewer { role } }", "operationName": "B"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/graphql",
        "application/json; charset=latin-1",
    ],
)
async def test_post_with_an_unsupported_content_type_answers_415(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post(
        "/graphql",
        content=b'{"query": "{ viewer { role } }"}',
        headers={"content-type": content_type},
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_a_multipart_post_without_a_preflight_header_answers_400(
    client: httpx.AsyncClient,
) -> None:
    # Multipart is for file uploads (GraphQL multipart requests), and only with a header
    # that forces a CORS preflight.
    response = await client.post(
        "/graphql",
        content=b'{"query": "{ viewer { role } }"}',
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "PREFLIGHT_REQUIRED"


async def test_post_without_a_content_type_answers_415(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", content=b'{"query": "{ viewer { role } }"}')
    assert "content-type" not in response.request.headers
    assert response.status_code == 415


async def test_post_accepts_json_with_a_utf8_charset_and_the_graphql_response_type(
    client: httpx.AsyncClient,
) -> None:
    for content_type in ("application/json; charset=utf-8", GRAPHQL_RESPONSE):
        response = await client.post(
            "/graphql",
            content=b'{"query": "{ viewer { role } }"}',
            headers={"content-type": content_type},
        )
        assert response.status_code == 200, content_type


async def test_get_runs_a_query(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": VALID})
    assert response.status_code == 200
    assert response.json()["data"]["ladder"]["name"] == "Product Management"


async def test_get_takes_variables_as_json(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "query ($t: String!) { ladder(track: $t) { track } }",
            "variables": '{"t": "product"}',
        },
    )
    assert without_cost(response.json()) == {"data": {"ladder": {"track": "product"}}}


async def test_get_with_variables_that_are_not_json_answers_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": VALID, "variables": "{nope"})
    assert response.status_code == 400


async def test_a_mutation_over_get_answers_405_allowing_post_and_does_not_run(
    probe_server: LiveServer,
) -> None:
    before = len(ProbeLog.calls)
    async with probe_server.client() as client:
        response = await client.get(
            "/graphql", params={"query": 'mutation { recordProbe(note: "via get") }'}
        )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert len(ProbeLog.calls) == before


async def test_a_mutation_over_post_with_json_runs(probe_server: LiveServer) -> None:
    async with probe_server.client() as client:
        response = await client.post(
            "/graphql", json={"query": 'mutation { recordProbe(note: "via post") }'}
        )
    assert response.json() == {"data": {"recordProbe": "via post"}}
    assert "via post" in ProbeLog.calls


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_a_mutation_a_browser_can_send_without_preflight_never_runs(
    probe_server: LiveServer, content_type: str
) -> None:
    before = len(ProbeLog.calls)
    async with probe_server.client() as client:
        response = await client.post(
            "/graphql",
            content=b'{"query": "mutation { recordProbe(note: \\"csrf\\") }"}',
            headers={"content-type": content_type, "origin": "https://evil.example"},
        )
    # 400 PREFLIGHT_REQUIRED for multipart (an upload needs a preflight header), else 415.
    assert response.status_code == (400 if content_type == "multipart/form-data" else 415)
    assert len(ProbeLog.calls) == before


async def test_a_subscription_over_http_answers_400(probe_server: LiveServer) -> None:
    async with probe_server.client() as client:
        response = await client.post("/graphql", json={"query": "subscription { ticks(count: 1) }"})
    assert response.status_code == 400


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_other_methods_answer_405(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, "/graphql")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


async def test_graphiql_is_served_to_browsers_in_development(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": VALID}, headers={"x-request-id": "abc-123"}
    )
    assert response.headers["x-request-id"] == "abc-123"
    generated = await client.post("/graphql", json={"query": VALID})
    assert len(generated.headers["x-request-id"]) == 32
