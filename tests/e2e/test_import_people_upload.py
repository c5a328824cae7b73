"""``importPeople`` with a CSV file sent as a GraphQL multipart request, over real HTTP on
both backends: the same judging, dry run and all-or-nothing import as inline rows and as
``ladder import-people`` (the same file is the same import), a preflight header required
against cross-site requests, and a size cap with its own error code."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.services import runtime_services
from tests.e2e.conftest import LiveServer, make_settings, mint, serve
from tests.e2e.live_api import HR, backend_url, gql, log_position
from tests.integration.cli.helpers import with_db

IMPORT = """
mutation Import($input: ImportPeopleInput!) {
  importPeople(input: $input) {
    rows hired replayed position
    errors { row field code message }
  }
}
"""
HEADER = "name,email,track,level,hired_on,prior_years,manager_email\n"
CLEAN = (
    HEADER
    + "Una Upload,una@example.com,product,apm,2024-02-01,0,max@example.com\n"
    + "Max Manager,max@example.com,product,group_pm,2023-01-01,9,\n"
)
UPLOAD_CAP = 4096


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
    with backend_url(request.param, str(tmp_path_factory.mktemp("upload"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    settings = make_settings(database_url=database, max_upload_bytes=UPLOAD_CAP)
    with serve(create_app(settings, bootstrap=runtime_services), settings) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


async def upload(
    client: httpx.AsyncClient,
    content: bytes | str,
    *,
    dry_run: bool = False,
    token: str = HR,
    preflight: bool = True,
    more: dict[str, Any] | None = None,
) -> httpx.Response:
    """POST the multipart request: ``operations``, ``map`` (file ``0`` to the input's
    ``file``), then the file."""
    operations = {
        "query": IMPORT,
        "variables": {"input": {"file": None, "dryRun": dry_run, **(more or {})}},
    }
    headers = {"accept": "application/graphql-response+json", "authorization": f"Bearer {token}"}
    if preflight:
        headers["graphql-require-preflight"] = "1"
    body = content.encode() if isinstance(content, str) else content
    return await client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": ("people.csv", body, "text/csv")},
        headers=headers,
    )


async def imported(
    client: httpx.AsyncClient, content: bytes | str, **options: Any
) -> dict[str, Any]:
    response = await upload(client, content, **options)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    found: dict[str, Any] = body["data"]["importPeople"]
    return found


async def test_bad_lines_of_the_file_are_reported_and_nothing_is_written(
    client: httpx.AsyncClient, database: str
) -> None:
    before = await log_position(database)
    bad = (
        HEADER
        + "Rae,rae@example.com,product,wizard,2024-02-01,0,\n"
        + "Mia,mia@example.com,product,apm,2024-02-31,0,\n"
        + "Sam,sam@example.com,product,apm,2024-02-01,0,\n"
    )
    for dry_run in (True, False):
        found = await imported(client, bad, dry_run=dry_run)
        assert [(e["row"], e["field"], e["code"]) for e in found["errors"]] == [
            (2, "level", "UNKNOWN_LEVEL"),
            (3, "hiredOn", "VALIDATION_ERROR"),
        ]
        assert (found["rows"], found["hired"], found["position"]) == (3, 0, None)
    assert await log_position(database) == before


async def test_a_file_is_dry_run_then_imported_once_like_inline_rows(
    client: httpx.AsyncClient, database: str, tmp_path: Path
) -> None:
    before = await log_position(database)
    dry = await imported(client, CLEAN, dry_run=True)
    assert (dry["rows"], dry["hired"], dry["replayed"], dry["errors"]) == (2, 0, False, [])
    assert await log_position(database) == before
    done = await imported(client, CLEAN)
    assert (done["hired"], done["replayed"], done["errors"]) == (2, False, [])
    assert done["position"] == await log_position(database) == before + 2
    again = await imported(client, CLEAN)
    assert (again["hired"], again["replayed"], again["position"]) == (0, True, done["position"])
    # The same file through the command line is the same import.
    file = tmp_path / "people.csv"
    file.write_text(CLEAN)
    ran = await asyncio.to_thread(with_db, database, "import-people", str(file))
    assert ran.exit_code == 0 and "already imported: 2 rows" in ran.stdout, ran.stderr
    people = await gql(client, '{ people(search: "una@") { totalCount } }')
    assert people["data"]["people"]["totalCount"] == 1
    assert await log_position(database) == done["position"]


async def test_a_header_problem_names_the_column_on_line_one(client: httpx.AsyncClient) -> None:
    found = await imported(client, "name,email,track,level,shoe_size\nA,a@example.com,x,y,42\n")
    assert [(e["row"], e["field"], e["code"]) for e in found["errors"]] == [
        (1, "hiredOn", "VALIDATION_ERROR"),
        (1, "shoe_size", "VALIDATION_ERROR"),
    ]


async def test_rows_and_a_file_together_or_a_file_not_in_utf8_are_refused(
    client: httpx.AsyncClient, database: str
) -> None:
    before = await log_position(database)
    row = {"name": "In Line", "email": "inline@example.com", "track": "product",
           "level": "apm", "hiredOn": "2024-02-01"}  # fmt: skip
    both = await imported(client, CLEAN, more={"rows": [row]})
    assert [(e["field"], e["code"]) for e in both["errors"]] == [("file", "VALIDATION_ERROR")]
    latin = await imported(
        client, (HEADER + "Zoë,zoe@example.com,product,apm,2024-02-01,0,\n").encode("latin-1")
    )
    assert [(e["field"], e["code"]) for e in latin["errors"]] == [("file", "VALIDATION_ERROR")]
    assert await log_position(database) == before


async def test_an_upload_without_a_preflight_header_is_refused_unread(
    client: httpx.AsyncClient, database: str
) -> None:
    before = await log_position(database)
    response = await upload(client, CLEAN.replace("una@", "una2@"), preflight=False)
    assert response.status_code == 400
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["PREFLIGHT_REQUIRED"]
    assert await log_position(database) == before


async def test_an_upload_over_the_cap_is_refused_with_its_own_code(
    client: httpx.AsyncClient, database: str
) -> None:
    before = await log_position(database)
    big = HEADER + "".join(
        f"Person {i},p{i}@example.com,product,apm,2024-02-01,0,\n" for i in range(200)
    )
    assert len(big) > UPLOAD_CAP
    response = await upload(client, big)
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "UPLOAD_TOO_LARGE", "limit": UPLOAD_CAP}
    assert await log_position(database) == before
    # A JSON body keeps its own (smaller) cap and code.
    assert UPLOAD_CAP < 100_000


async def test_a_malformed_multipart_request_is_a_bad_request(client: httpx.AsyncClient) -> None:
    headers = {"authorization": f"Bearer {HR}", "graphql-require-preflight": "1"}
    missing = await client.post(
        "/graphql",
        data={
            "operations": json.dumps({"query": IMPORT}),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        headers=headers,
        files={"other": ("x.csv", b"x", "text/csv")},
    )
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_only_hr_may_import_a_file(client: httpx.AsyncClient, database: str) -> None:
    before = await log_position(database)
    token = mint("manager", "00000000-0000-4000-8000-000000000001")
    body = (await upload(client, CLEAN.replace("una@", "una3@"), token=token)).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert await log_position(database) == before


async def test_the_readme_curl_upload_runs_as_written(
    server: LiveServer, database: str, tmp_path: Path
) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```sh\n(curl [^`]*?graphql-require-preflight[^`]*?)```", readme)
    assert found is not None
    command = found.group(1).replace("localhost:8000", server.base_url)
    (tmp_path / "people.csv").write_text(CLEAN.replace("una@", "una4@").replace("max@", "max4@"))
    before = await log_position(database)
    ran = await asyncio.to_thread(
        subprocess.run,
        ["bash", "-c", command],
        cwd=tmp_path,
        env={**os.environ, "TOKEN": HR},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert ran.returncode == 0, ran.stderr
    answer = json.loads(ran.stdout)["data"]["importPeople"]
    assert answer == {"rows": 2, "hired": 0, "replayed": False, "errors": []}  # a dry run
    assert await log_position(database) == before


async def test_a_chunked_upload_over_the_cap_is_refused_too(
    client: httpx.AsyncClient, database: str
) -> None:
    # Without a Content-Length the cap is counted as the body streams in.
    boundary = "cap-boundary"
    operations = json.dumps({"query": IMPORT, "variables": {"input": {"file": None}}})
    rows = "".join(f"P {i},chunk{i}@example.com,product,apm,2024-02-01,0,\n" for i in range(200))
    body = (
        f'--{boundary}\r\ncontent-disposition: form-data; name="operations"\r\n\r\n{operations}\r\n'
        f'--{boundary}\r\ncontent-disposition: form-data; name="map"\r\n\r\n'
        '{"0":["variables.input.file"]}\r\n'
        f'--{boundary}\r\ncontent-disposition: form-data; name="0"; filename="p.csv"\r\n'
        f"content-type: text/csv\r\n\r\n{HEADER}{rows}\r\n--{boundary}--\r\n"
    ).encode()
    assert len(body) > UPLOAD_CAP

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1024):
            yield body[start : start + 1024]

    before = await log_position(database)
    response = await client.post(
        "/graphql",
        content=chunks(),
        headers={
            "authorization": f"Bearer {HR}",
            "graphql-require-preflight": "1",
            "content-type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "UPLOAD_TOO_LARGE"
    assert await log_position(database) == before


async def test_a_file_given_inline_in_json_is_refused(client: httpx.AsyncClient) -> None:
    body = await gql(client, IMPORT, {"input": {"file": CLEAN}})
    errors = body["data"]["importPeople"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("file", "VALIDATION_ERROR")]
