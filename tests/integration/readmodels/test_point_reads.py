"""Point reads (``events.fast_reads``, ``point=True``): on SQLite an index lookup runs on
the caller's thread through the driver, with SQLAlchemy's compiled statement and type
conversions; it must return exactly the rows the general path returns."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from events.fast_reads import fetch_rows
from events.projector import Projector
from events.readmodels import api_queries, emails, rosters
from events.sql_store import SqlEventStore
from tests.integration.readmodels.test_roster import TODAY, _org


async def _both(engine: AsyncEngine, statement: Any, params: dict[str, Any]) -> list[Any]:
    point = await fetch_rows(engine, statement, params, point=True)
    general = await fetch_rows(engine, statement, params)
    assert point == general
    assert [{k: type(v) for k, v in r.items()} for r in point] == [
        {k: type(v) for k, v in r.items()} for r in general
    ]
    return list(point)


async def test_a_point_read_of_people_returns_the_rows_and_types_of_the_general_read(
    engine: AsyncEngine, store: SqlEventStore, projector: Projector
) -> None:
    org = await _org(store)
    await projector.catch_up()
    ids = sorted(str(p.person_id) for p in org.values())
    for n in (1, 2, len(ids)):  # each size of IN (...) is its own compiled shape
        rows = await _both(engine, api_queries._people_by_ids(), {"today": TODAY, "ids": ids[:n]})
        assert sorted(r["person_id"] for r in rows) == ids[:n]
    rows = await _both(engine, api_queries._people_by_ids(), {"today": TODAY, "ids": ids})
    by_name = {r["name"]: r for r in rows}
    assert isinstance(by_name["Ada"]["hired_on"], date)
    assert by_name["Ada"]["manager_id"] == str(org["bob"].person_id)
    assert by_name["Bob"]["manager_id"] is None
    assert by_name["Cy"]["facts"] is not None  # a promotion agreed to take effect later
    assert by_name["Ada"]["facts"] is None
    assert (
        await _both(engine, api_queries._people_by_ids(), {"today": TODAY, "ids": ["nobody"]}) == []
    )


async def test_a_point_read_of_ladder_versions_and_emails_matches_the_general_read(
    engine: AsyncEngine, store: SqlEventStore, projector: Projector
) -> None:
    org = await _org(store)
    await projector.catch_up()
    await _both(engine, api_queries._latest_versions(), {"tracks": ["product", "none"]})
    rows = await _both(engine, emails._with_email(), {"email": "ada@example.com"})
    assert [r["person_id"] for r in rows] == [str(org["ada"].person_id)]
    assert await _both(engine, emails._with_email(), {"email": "nobody@example.com"}) == []
    marks = await _both(engine, rosters._marks(), {})  # an IN list of literals
    assert [r["name"] for r in marks] == ["ladders", "people"]
