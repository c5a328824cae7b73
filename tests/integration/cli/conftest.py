"""Fixtures for the ``ladder`` command tests: demo databases on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.cli.helpers import with_db
from tests.support import create_pg_schema, drop_pg_schema, pg_schema_url

DEMO_PEOPLE = "8"
DEMO_SEED = "7"


@pytest.fixture
def other_db_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database on the same backend as ``db_url``."""
    if db_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
        return
    schema = create_pg_schema("cli")
    try:
        yield pg_schema_url(schema)
    finally:
        drop_pg_schema(schema)


@pytest.fixture
def demo_db(db_url: str) -> str:
    """``db_url`` filled by ``ladder demo --people 8 --seed 7``."""
    ran = with_db(db_url, "demo", "--people", DEMO_PEOPLE, "--seed", DEMO_SEED, "--quiet")
    assert ran.exit_code == 0, ran.stderr
    return db_url
