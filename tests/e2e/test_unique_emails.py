"""``hirePerson`` refuses an email another person has (without case), over HTTP, on both
backends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.live_api import backend_url, new_id, run_mutation, runtime_server


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
    with backend_url(request.param, str(tmp_path_factory.mktemp("emails"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


def hiring(email: str) -> dict[str, str]:
    return {
        "personId": new_id(),
        "name": "Katherine Johnson",
        "email": email,
        "track": "product",
        "level": "apm",
        "hiredOn": "2020-01-06",
    }


async def test_hiring_with_an_email_someone_has_is_refused_whatever_its_case(
    client: httpx.AsyncClient,
) -> None:
    first = await run_mutation(client, "hirePerson", hiring("katherine@example.com"))
    assert first["errors"] == [], first
    again = await run_mutation(client, "hirePerson", hiring("Katherine@EXAMPLE.com"))
    assert again["position"] is None
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("EMAIL_ALREADY_USED", "email")]


async def test_racing_hires_with_one_email_over_http_leave_it_to_one_person(
    client: httpx.AsyncClient,
) -> None:
    spellings = ["race@example.com", "RACE@example.com", "Race@Example.com"]
    payloads = await asyncio.gather(
        *(run_mutation(client, "hirePerson", hiring(spellings[i % 3])) for i in range(12))
    )
    written = [p for p in payloads if not p["errors"]]
    assert len(written) == 1, payloads
    codes = {e["code"] for p in payloads for e in p["errors"]}
    assert codes <= {"EMAIL_ALREADY_USED", "CONCURRENCY_CONFLICT"}, codes
    assert "EMAIL_ALREADY_USED" in codes
