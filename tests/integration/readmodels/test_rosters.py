"""Kept roster pages (``events.readmodels.rosters``): served again only while the people
and ladders read models have not moved, so a page never shows less than the read models."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncEngine

from events.projector import Projector
from events.readmodels.api_queries import PeopleFilter, list_people
from events.readmodels.rosters import Rosters
from events.sql_store import SqlEventStore
from tests.integration.readmodels.builders import record
from tests.integration.readmodels.test_roster import TODAY, _org


async def test_a_kept_page_follows_every_change_the_read_models_take(
    engine: AsyncEngine, store: SqlEventStore, projector: Projector
) -> None:
    org = await _org(store)
    await projector.catch_up()
    rosters = Rosters(engine)
    everyone = PeopleFilter()
    first = await rosters.list_people(everyone, limit=10, today=TODAY)
    assert [(e.person.name, e.person.level) for e in first][:1] == [("Ada", "apm")]
    assert await rosters.list_people(everyone, limit=10, today=TODAY) == first

    await record(store, org["ada"].promoted(date(2024, 5, 6), "apm", "pm"))
    await projector.catch_up()
    after = await rosters.list_people(everyone, limit=10, today=TODAY)
    assert [(e.person.name, e.person.level) for e in after][:1] == [("Ada", "pm")]
    assert after == await list_people(engine, everyone, limit=10, today=TODAY)
    # Other filters, sizes and days are pages of their own.
    two = await rosters.list_people(everyone, limit=2, today=TODAY)
    assert [e.person.name for e in two] == ["Ada", "Bob"]
