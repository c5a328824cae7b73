"""Fixtures shared by every suite.

* ``db_url``: parametrized over ``sqlite`` (a fresh file in ``tmp_path``) and
  ``postgres`` (a fresh schema on the test server, dropped afterwards; marked
  ``postgres``; skipped when the server is down, failed instead when ``CI=true``).
* ``engine``: an ``AsyncEngine`` on ``db_url``, migrated to head.
* ``store``: a ``SqlEventStore`` on ``engine``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from events.db import create_engine
from events.migrate import migrate
from events.sql_store import SqlEventStore
from tests.support import create_pg_schema, drop_pg_schema, pg_schema_url, require_postgres

# Personal data is sealed under keys wrapped by a master key (``events.sealing``): the
# tests (and the servers and CLI processes they start) share this one, instead of making
# a development key file in the home directory.
os.environ.setdefault("LADDER_MASTER_KEY", "dGVzdHMtb25seS1tYXN0ZXIta2V5LTMyLWJ5dGVzISE=")
# Every query answered by a plan (``api.plans``) is executed by graphql-core too and the two
# answers compared, in this process and in the servers the tests start.
os.environ.setdefault("LADDER_VERIFY_PLANS", "1")


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'events.db'}"
        return
    require_postgres()
    schema = create_pg_schema()
    try:
        yield pg_schema_url(schema)
    finally:
        drop_pg_schema(schema)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on ``db_url`` with the schema migrated to head."""
    eng = create_engine(db_url)
    try:
        await migrate(eng)
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
async def store(engine: AsyncEngine) -> AsyncIterator[SqlEventStore]:
    """A migrated ``SqlEventStore`` (shares ``engine``; closed after the test)."""
    s = SqlEventStore(engine)
    try:
        yield s
    finally:
        await s.close()
