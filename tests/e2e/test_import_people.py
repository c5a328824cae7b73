"""``importPeople`` over HTTP on both backends: a dry run judges every row, a bad row is
reported with its row, field and code and nothing is written, a clean import hires
everyone once, and only HR may import."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LiveServer, mint
from tests.e2e.live_api import backend_url, gql, log_position, runtime_server

IMPORT = """
mutation Import($input: ImportPeopleInput!) {
  importPeople(input: $input) {
    rows hired replayed position
    errors { row field code message }
  }
}
"""
ROWS: list[dict[str, Any]] = [
    {"name": "Rae Report", "email": "rae@example.com", "track": "product", "level": "apm",
     "hiredOn": "2024-02-01", "managerEmail": "mia@example.com"},
    {"name": "Mia Manager", "email": "mia@example.com", "track": "product",
     "level": "group_pm", "hiredOn": "2023-01-01", "priorYears": 9},
]  # fmt: skip


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
    with backend_url(request.param, str(tmp_path_factory.mktemp("import"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


async def run(client: httpx.AsyncClient, rows: list[dict[str, Any]], **more: Any) -> Any:
    body = await gql(client, IMPORT, {"input": {"rows": rows, **more}})
    assert "errors" not in body, body
    return body["data"]["importPeople"]


async def test_bad_rows_are_reported_by_row_and_field_and_nothing_is_written(
    client: httpx.AsyncClient, database: str
) -> None:
    before = await log_position(database)
    # Rae's own mistake is reported, not that her manager's row is refused.
    bad = [{**ROWS[0], "level": "wizard"}, {**ROWS[1], "email": "RAE@example.com"}]
    found = await run(client, bad)
    assert [(e["row"], e["field"], e["code"]) for e in found["errors"]] == [
        (1, "level", "UNKNOWN_LEVEL"),
        (2, "email", "EMAIL_ALREADY_USED"),
    ]
    assert (found["hired"], found["position"]) == (0, None)
    assert await log_position(database) == before


async def test_a_dry_run_then_an_import_hires_everyone_once(
    client: httpx.AsyncClient, database: str
) -> None:
    before = await log_position(database)
    dry = await run(client, ROWS, dryRun=True)
    assert (dry["rows"], dry["hired"], dry["errors"]) == (2, 0, [])
    assert await log_position(database) == before
    done = await run(client, ROWS)
    assert (done["hired"], done["replayed"], done["errors"]) == (2, False, [])
    assert done["position"] == await log_position(database) == before + 2
    again = await run(client, ROWS)
    assert (again["hired"], again["replayed"], again["position"]) == (0, True, done["position"])
    people = await gql(client, '{ people(search: "example.com") { totalCount } }')
    assert people["data"]["people"]["totalCount"] == 2


async def test_only_hr_may_import(client: httpx.AsyncClient) -> None:
    token = mint("manager", "00000000-0000-4000-8000-000000000001")
    body = await gql(client, IMPORT, {"input": {"rows": ROWS}}, token=token)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
