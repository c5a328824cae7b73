"""The ``org`` fixture: the seeded org of ``seed`` behind a live server, on each backend,
built once per session (seeding through ``CareerService.execute`` takes a while)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from api.app import create_app
from tests.e2e.conftest import make_settings, serve
from tests.e2e.queries.seed import Seeded, boot, seed
from tests.support import create_pg_schema, drop_pg_schema, pg_schema_url, require_postgres


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def org(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    """The seeded org behind a live server, on each backend (built once per session)."""
    schema: str | None = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('org') / 'org.db'}"
    else:
        require_postgres()
        schema = create_pg_schema()
        url = pg_schema_url(schema)
    try:
        moment, promotion = asyncio.run(seed(url))
        seeded = Seeded(url=url, departure_recorded_after=moment, promotion_event_id=promotion)
        settings = make_settings(database_url=url)
        with serve(create_app(settings, bootstrap=boot(seeded)), settings) as server:
            seeded.server = server
            yield seeded
    finally:
        if schema is not None:
            drop_pg_schema(schema)
