"""A planned query answered, or a mutation executed, without the schema's per-request
machinery (``GraphQLView._answer_directly``) gets the very response ``Schema.execute``
gives: status, headers, body (with ``extensions.cost``, errors shaped), and every other
request is served as before; a
JSON POST, served by the view itself, gets the response Strawberry's own request handling
gives the same request over GET."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from api.http import GraphQLView
from api.settings import Settings

SECRET = "unit-secret-that-is-long-enough-for-hs256-000"
LADDER = '{ ladder(track: "product") { name levels { key title } } }'
NAMED = (
    "query Titles($track: String!) { levels(track: $track) { title } } "
    'query Name { ladder(track: "product") { name } }'
)
HIRE = "mutation($i: HirePersonInput!) { hirePerson(input: $i) { position errors { code } } }"
HIRED = {
    "name": "Ada",
    "email": "ada@example.com",
    "hiredOn": "2024-01-02",
    "level": "apm",
    "track": "product",
}
REQUESTS: list[tuple[str, dict[str, object], dict[str, str]]] = [
    ("POST", {"query": LADDER}, {}),
    ("POST", {"query": LADDER}, {"accept": "application/graphql-response+json"}),
    (
        "POST",
        {"query": NAMED, "operationName": "Titles", "variables": {"track": "product"}},
        {},
    ),
    ("POST", {"query": NAMED, "operationName": "Name"}, {}),
    ("POST", {"query": NAMED}, {}),  # several operations and none named: 400
    ("POST", {"query": NAMED, "operationName": "Titles", "variables": {"track": 7}}, {}),
    ("POST", {"query": '{ ladder(track: "product") { noSuchField } }'}, {}),
    ("POST", {"query": '{ ladder(track: "no-such-track") { name } }'}, {}),
    ("POST", {"query": "{ ladder("}, {"accept": "application/graphql-response+json"}),
    ("POST", {"query": "{ __typename }"}, {}),
    ("POST", {"query": HIRE, "variables": {"i": HIRED}}, {}),  # no token: refused
    ("POST", {"query": HIRE, "variables": {"i": HIRED}}, {"authorization": "Bearer nope"}),
    ("POST", {"query": HIRE, "variables": {"i": {"name": 7}}}, {}),  # does not coerce
    ("POST", {"query": "mutation { noSuchMutation }"}, {}),
]


@pytest.fixture
async def app_and_view() -> AsyncIterator[tuple[httpx.AsyncClient, GraphQLView]]:
    app = create_app(Settings(_env_file=None, token_secret=SECRET))
    view = next(
        getattr(r, "endpoint", None)
        for r in app.routes
        if isinstance(getattr(r, "endpoint", None), GraphQLView)
    )
    assert isinstance(view, GraphQLView)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, view


def _seen(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.items() if k not in ("x-request-id",)]
    return response.status_code, headers, response.content


async def test_each_request_gets_the_response_the_schemas_execution_gives(
    app_and_view: tuple[httpx.AsyncClient, GraphQLView],
) -> None:
    client, view = app_and_view
    for method, body, headers in REQUESTS:
        view.answers_directly = True
        direct = await client.request(method, "/graphql", json=body, headers=headers)
        view.answers_directly = False
        executed = await client.request(method, "/graphql", json=body, headers=headers)
        assert _seen(direct) == _seen(executed), body
    view.answers_directly = True
    for method, body, headers in REQUESTS[:10]:  # a POST is served as a GET is, by Strawberry
        params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        posted = await client.request(method, "/graphql", json=body, headers=headers)
        got = await client.get("/graphql", params=params, headers=headers)
        assert _seen(posted) == _seen(got), body
    answered = await client.post("/graphql", json={"query": LADDER})
    assert answered.json()["extensions"]["cost"]["requested"] >= 1
