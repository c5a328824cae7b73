"""The ``graphql-http`` audit (npm, the GraphQL over HTTP spec's own suite) against the real
server: every check passes, with no warning.

The package is installed with npm into a temporary directory at a pinned version. Skipped
when Node.js or npm is missing, naming them; failed instead when ``CI=true``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.live_api import runtime_server
from tests.support import in_ci

GRAPHQL_HTTP = "graphql-http@1.23.1"
AUDIT_SCRIPT = """
import { auditServer } from "graphql-http";
const results = await auditServer({ url: process.argv[2] });
const report = results.map((r) => ({ id: r.id, name: r.name, status: r.status, reason: r.reason }));
console.log(JSON.stringify(report));
"""


def require_node() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return node, npm
    reason = "the graphql-http audit needs Node.js and npm on PATH"
    if in_ci():
        pytest.fail(reason + " (CI=true: the audit is required)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def audit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, npm = require_node()
    directory = tmp_path_factory.mktemp("graphql-http")
    (directory / "package.json").write_text('{"private": true, "type": "module"}')
    (directory / "audit.mjs").write_text(AUDIT_SCRIPT)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent", GRAPHQL_HTTP, "graphql@16"],
        cwd=directory,
        check=True,
        timeout=300,
    )
    return directory


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = tmp_path_factory.mktemp("audit-db") / "events.db"
    with runtime_server(f"sqlite+aiosqlite:///{database}") as live:
        yield live


def run_audit(directory: Path, url: str) -> list[dict[str, Any]]:
    node, _ = require_node()
    finished = subprocess.run(
        [node, "audit.mjs", url],
        cwd=directory,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(finished.stdout)
    assert isinstance(report, list)
    return report


def test_the_graphql_http_audit_passes_with_no_warning(audit_dir: Path, server: LiveServer) -> None:
    report = run_audit(audit_dir, server.graphql_url)
    not_ok = [
        f"{r['status']}: {r['id']} {r['name']} ({r['reason']})"
        for r in report
        if r["status"] != "ok"
    ]
    assert not_ok == []
    assert len(report) == 61  # graphql-http 1.23.1 runs 61 checks
