"""CORS, body cap, request limits, tokens and error masking, over real HTTP."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from api.auth import Role, mint_token
from tests.e2e.conftest import (
    TEST_SECRET,
    LiveServer,
    StartServer,
    make_settings,
    mint,
    without_cost,
)

# Ask for the spec's media type: request errors then answer 400 (application/json answers 200).
GRAPHQL_RESPONSE = {"accept": "application/graphql-response+json"}
OTHER_SECRET = "some-other-secret-that-is-long-enough-xx"
LEVEL_CHAIN = '{{ ladder(track: "product") {{ levels {{ {inner} }} }} }}'


def next_levels(depth: int) -> str:
    inner = "key"
    for _ in range(depth):
        inner = f"nextLevel {{ {inner} }}"
    return LEVEL_CHAIN.format(inner=inner)


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


# --- CORS -------------------------------------------------------------------------------


async def test_a_cors_preflight_from_an_allowed_origin_is_approved(
    probe_server: LiveServer,
) -> None:
    async with probe_server.client() as client:
        response = await client.options(
            "/graphql",
            headers={
                "origin": "https://app.example.com",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type, authorization",
            },
        )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


async def test_a_cors_preflight_from_another_origin_is_refused(probe_server: LiveServer) -> None:
    async with probe_server.client() as client:
        response = await client.options(
            "/graphql",
            headers={
                "origin": "https://evil.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_simple_responses_carry_cors_headers_only_for_allowed_origins(
    probe_server: LiveServer,
) -> None:
    async with probe_server.client() as client:
        allowed = await client.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"origin": "https://app.example.com"},
        )
        other = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": "https://evil.example"}
        )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in other.headers


# --- body size cap ----------------------------------------------------------------------


async def test_a_body_over_the_cap_answers_413(
    client: httpx.AsyncClient, live_server: LiveServer
) -> None:
    cap = live_server.settings.max_body_bytes
    padding = " " * cap
    response = await client.post(
        "/graphql",
        content=f'{{"query": "{{ __typename }}{padding}"}}'.encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert codes(response) == ["BODY_TOO_LARGE"]


async def test_a_chunked_body_over_the_cap_answers_413(
    client: httpx.AsyncClient, live_server: LiveServer
) -> None:
    chunk = b" " * 10_000
    chunks = live_server.settings.max_body_bytes // len(chunk) + 2

    async def body() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }'
        for _ in range(chunks):
            yield chunk
        yield b'"}'

    response = await client.post(
        "/graphql", content=body(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


# --- request limits ---------------------------------------------------------------------


async def test_a_query_at_the_depth_limit_runs(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": next_levels(9)})  # depth 12
    assert response.status_code == 200
    assert "errors" not in response.json()


async def test_a_query_over_the_depth_limit_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": next_levels(10)}, headers=GRAPHQL_RESPONSE
    )  # depth 13
    assert response.status_code == 400
    assert codes(response) == ["DEPTH_LIMIT_EXCEEDED"]
    assert "data" not in response.json()


async def test_depth_through_fragments_counts_too(client: httpx.AsyncClient) -> None:
    query = (
        "fragment L on Level { " + "nextLevel { " * 10 + "key" + " }" * 10 + " } "
        '{ ladder(track: "product") { levels { ...L } } }'
    )
    response = await client.post("/graphql", json={"query": query})
    assert codes(response) == ["DEPTH_LIMIT_EXCEEDED"]


async def test_too_many_aliases_are_refused(client: httpx.AsyncClient) -> None:
    ok = " ".join(f"a{i}: __typename" for i in range(15))
    too_many = " ".join(f"a{i}: __typename" for i in range(16))
    assert (await client.post("/graphql", json={"query": f"{{ {ok} }}"})).status_code == 200
    response = await client.post(
        "/graphql", json={"query": f"{{ {too_many} }}"}, headers=GRAPHQL_RESPONSE
    )
    assert response.status_code == 400
    assert codes(response) == ["ALIAS_LIMIT_EXCEEDED"]


async def test_a_document_with_too_many_tokens_is_refused(client: httpx.AsyncClient) -> None:
    query = "{ " + "__typename " * 2100 + "}"
    response = await client.post("/graphql", json={"query": query}, headers=GRAPHQL_RESPONSE)
    assert response.status_code == 400
    assert codes(response) == ["TOKEN_LIMIT_EXCEEDED"]


@pytest.fixture
def production(start_server: StartServer) -> LiveServer:
    return start_server(settings=make_settings(env="production"))


async def test_introspection_is_off_in_production(production: LiveServer) -> None:
    async with production.client() as client:
        response = await client.post(
            "/graphql", json={"query": "{ __schema { types { name } } }"}, headers=GRAPHQL_RESPONSE
        )
        typename = await client.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 400
    assert codes(response) == ["INTROSPECTION_DISABLED"]
    assert typename.json() == {"data": {"__typename": "Query"}}


async def test_field_suggestions_are_off_in_production(
    production: LiveServer, client: httpx.AsyncClient
) -> None:
    query = '{ ladder(track: "product") { nam } }'
    async with production.client() as prod:
        response = await prod.post("/graphql", json={"query": query})
    assert "Did you mean" not in response.text
    development = await client.post("/graphql", json={"query": query})
    assert "Did you mean" in development.text


async def test_graphiql_is_not_served_in_production(production: LiveServer) -> None:
    async with production.client() as client:
        response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code != 200
    assert "graphiql" not in response.text.lower()


async def test_introspection_works_in_development(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


# --- tokens -----------------------------------------------------------------------------


async def test_a_valid_token_identifies_the_viewer(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { subject role canWrite canReadAudit } }"},
        headers={"authorization": f"Bearer {mint(Role.AUDITOR, 'audit-bot')}"},
    )
    assert without_cost(response.json()) == {
        "data": {
            "viewer": {
                "subject": "audit-bot",
                "role": "AUDITOR",
                "canWrite": False,
                "canReadAudit": True,
            }
        }
    }


async def test_no_token_means_anonymous(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ viewer { subject } }"})
    assert without_cost(response.json()) == {"data": {"viewer": None}}


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not-a-jwt",
        f"Bearer {mint_token(OTHER_SECRET, 'hr', 'x', timedelta(hours=1))}",
        f"Bearer {mint_token(TEST_SECRET, 'hr', 'x', timedelta(seconds=-120))}",
        f"Basic {mint('hr')}",
        "Bearer",
    ],
    ids=["garbage", "wrong-secret", "expired", "wrong-scheme", "empty"],
)
async def test_a_bad_token_answers_401_even_for_public_fields(
    client: httpx.AsyncClient, authorization: str
) -> None:
    response = await client.post(
        "/graphql",
        json={"query": '{ ladder(track: "product") { name } }'},
        headers={"authorization": authorization},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert codes(response) == ["UNAUTHENTICATED"]


# --- masking ----------------------------------------------------------------------------


async def test_an_unexpected_error_is_masked_and_logged_with_an_id(
    probe_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="api.errors")
    async with probe_server.client() as client:
        response = await client.post("/graphql", json={"query": "{ boom }"})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"]["code"] == "INTERNAL"
    assert len(error["extensions"]["errorId"]) == 32
    assert error["path"] == ["boom"]
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    logged = [r for r in caplog.records if error["extensions"]["errorId"] in r.getMessage()]
    assert logged and logged[0].exc_info is not None


async def test_a_masked_error_does_not_hide_sibling_data(probe_server: LiveServer) -> None:
    async with probe_server.client() as client:
        response = await client.post("/graphql", json={"query": '{ echo(text: "hi") boom }'})
    assert response.json()["data"] is None  # boom is non-null, so the error reaches the root
    async with probe_server.client() as client:
        response = await client.post(
            "/graphql", json={"query": '{ echo(text: "hi") ladder(track: "nope") { name } }'}
        )
    assert without_cost(response.json()) == {"data": {"echo": "hi", "ladder": None}}
