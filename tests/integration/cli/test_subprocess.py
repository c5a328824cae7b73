"""``ladder`` as a real process: the installed script, ``python -m api.cli``, Ctrl-C, serve."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.integration.cli.helpers import with_db
from tests.integration.cli.test_demo import _normalized
from tests.support import create_pg_schema, drop_pg_schema, pg_schema_url, require_postgres

pytestmark = pytest.mark.skipif(shutil.which("ladder") is None, reason="ladder not installed")


def _events(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
        except sqlite3.OperationalError:  # not migrated yet
            return 0


def _wait_for(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_the_installed_script_and_python_dash_m_agree(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    env = {**os.environ, "LADDER_DATABASE_URL": url}
    migrated = subprocess.run(
        ["ladder", "migrate"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert migrated.returncode == 0, migrated.stderr
    verified = subprocess.run(
        [sys.executable, "-m", "api.cli", "verify"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("ok: 0 events")
    missing = subprocess.run(
        ["ladder", "replay", "nobody@example.com"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert missing.returncode == 3
    assert missing.stderr.strip().splitlines() == ["error: no person with email nobody@example.com"]


def test_ctrl_c_leaves_whole_commands_and_the_demo_resumes(tmp_path: Path) -> None:
    db = tmp_path / "interrupted.db"
    url = f"sqlite:///{db}"
    # Big enough to be still appending when the first commands are in.
    args = ["ladder", "demo", "--people", "2000", "--seed", "5", "--database-url", url, "-q"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: _events(db) > 20)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    assert with_db(url, "verify", "-q").exit_code == 0
    resumed = with_db(url, "demo", "--people", "2000", "--seed", "5", "-q")
    assert resumed.exit_code == 0, resumed.stderr
    straight = f"sqlite:///{tmp_path / 'straight.db'}"
    assert with_db(straight, "demo", "--people", "2000", "--seed", "5", "-q").exit_code == 0
    assert _normalized(url) == _normalized(straight)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(args: list[str], port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["ladder", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _answers_then_stops(proc: subprocess.Popen[str], port: int) -> None:
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        _wait_for(ready, timeout=120)
        for _ in range(4):  # several requests, so more than one worker may answer
            answer = httpx.post(f"{base}/graphql", json={"query": "{ __typename }"}, timeout=10)
            assert answer.status_code == 200
            assert answer.json()["data"] == {"__typename": "Query"}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0


def test_serve_migrates_publishes_the_ladder_and_answers(tmp_path: Path) -> None:
    db = tmp_path / "served.db"
    port = _free_port()
    _answers_then_stops(_serve(["--database-url", f"sqlite:///{db}"], port), port)
    with sqlite3.connect(db) as conn:
        types = [r[0] for r in conn.execute("SELECT type FROM events ORDER BY position")]
    assert types == ["LadderPublished"]


@pytest.mark.postgres
def test_serve_runs_several_workers_on_postgresql() -> None:
    require_postgres()
    schema = create_pg_schema("serve")
    try:
        url = pg_schema_url(schema)
        port = _free_port()
        _answers_then_stops(_serve(["--workers", "2", "--database-url", url], port), port)
        ran = with_db(url, "verify", "-q")
        assert ran.exit_code == 0, ran.stderr
        assert ran.stdout.startswith("ok: 1 events")  # the default ladder, published once
    finally:
        drop_pg_schema(schema)
