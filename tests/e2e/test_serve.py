"""``ladder serve`` as an operator runs it: the start-up summary, and one log line per request
(JSON or text); and the access line of a failed request naming its error id."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.multiprocess_support import REPO_ROOT, free_port

LADDER = "from api.cli.main import app; app()"  # this checkout's CLI, whatever is installed
QUERY = {"query": 'query Ladder { ladder(track: "product") { name } }'}


@contextmanager
def ladder_serve(tmp_path: Path, log_format: str) -> Iterator[tuple[str, Path, Path]]:
    """``ladder serve`` on a fresh SQLite file; yields its URL and its stdout/stderr files."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LADDER_")}
    env.pop("DATABASE_URL", None)
    env.update(
        LADDER_DATABASE_URL=f"sqlite:///{tmp_path}/serve.db",
        LADDER_TOKEN_SECRET="serve-test-secret-that-is-long-enough-xx",
        LADDER_LOG_FORMAT=log_format,
        PYTHONUNBUFFERED="1",
    )
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", LADDER, "serve", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=err,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"ladder serve did not start:\n{stderr.read_text()}")
                time.sleep(0.1)
            yield base, stdout, stderr
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(15)


def test_serve_prints_a_summary_and_logs_each_request_as_one_json_line(tmp_path: Path) -> None:
    with ladder_serve(tmp_path, "json") as (base, stdout, stderr):
        response = httpx.post(f"{base}/graphql", json=QUERY, headers={"x-request-id": "req-1"})
        assert response.status_code == 200
    summary = stdout.read_text()
    for expected in ("mode          development", "serve.db", "read models", "GraphiQL      on"):
        assert expected in summary
    lines = [json.loads(line) for line in stderr.read_text().splitlines() if line.strip()]
    access = [line for line in lines if line.get("request_id") == "req-1"]
    assert len(access) == 1
    assert access[0]["operation"] == "Ladder"
    assert access[0]["operation_type"] == "query"
    assert access[0]["status"] == 200
    assert access[0]["duration_ms"] > 0
    starting = next(line for line in lines if line["logger"] == "api.startup")
    assert starting["mode"] == "development"
    assert starting["database"].endswith("serve.db")


def test_serve_logs_plain_text_when_asked(tmp_path: Path) -> None:
    with ladder_serve(tmp_path, "text") as (base, _, stderr):
        httpx.post(f"{base}/graphql", json=QUERY, headers={"x-request-id": "req-2"})
    access = [line for line in stderr.read_text().splitlines() if "id=req-2" in line]
    assert len(access) == 1
    assert "api.access: POST /graphql 200" in access[0]
    assert "query Ladder" in access[0]
    assert not access[0].startswith("{")


async def test_a_masked_error_is_logged_under_the_error_id_the_client_sees(
    probe_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with probe_server.client() as client:
        response = await client.post(
            "/graphql", json={"query": "query Boom { boom }"}, headers={"x-request-id": "req-3"}
        )
    error_id = response.json()["errors"][0]["extensions"]["errorId"]
    access = [r for r in caplog.records if r.name == "api.access" and "req-3" in r.getMessage()]
    assert len(access) == 1
    fields: dict[str, Any] = access[0].fields  # type: ignore[attr-defined]
    assert fields["errors"] == [{"code": "INTERNAL", "errorId": error_id}]
    assert fields["operation"] == "Boom"
    logged = [r for r in caplog.records if r.name == "api.errors"]
    assert [r.fields["error_id"] for r in logged] == [error_id]  # type: ignore[attr-defined]
    assert "hunter2" not in access[0].getMessage()
