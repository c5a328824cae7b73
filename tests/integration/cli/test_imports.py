"""What ``ladder`` loads: help needs no database driver, the demo no server.

Each command imports the store, the server or the schema it needs in its own body
(``api.cli.main``); these keep ``ladder --help`` and ``ladder demo`` from paying for the
rest. Real processes, with ``-X importtime`` listing every module they imported.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SERVER = {"strawberry", "graphql", "starlette", "uvicorn", "api.app", "api.schema"}
DATABASE = {"sqlalchemy", "aiosqlite", "asyncpg", "alembic", "pydantic", "events"}


def _imported(*args: str, cwd: Path) -> set[str]:
    """The top-level packages (and ``api.*`` modules) that ``python -m api.cli ARGS`` imported."""
    ran = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "api.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-2000:]
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in ran.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return {n.split(".")[0] for n in names} | {n for n in names if n.startswith("api.")}


def test_help_loads_no_database_driver_and_no_server(tmp_path: Path) -> None:
    loaded = _imported("--help", cwd=tmp_path)
    assert "typer" in loaded
    assert loaded & (SERVER | DATABASE) == set()


def test_the_demo_loads_no_graphql_and_no_web_server(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    loaded = _imported("demo", "--people", "3", "-q", "--database-url", url, cwd=tmp_path)
    assert {"sqlalchemy", "events"} <= loaded
    assert loaded & SERVER == set()
