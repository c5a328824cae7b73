"""The roster read function (``api_queries.list_people`` / ``count_people``): the readiness
filter and keyset pages in every sort order, on each backend."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain import events as ev
from events.projector import Projector
from events.readmodels.api_queries import (
    PeopleFilter,
    PeopleKey,
    PeopleOrder,
    count_people,
    list_people,
)
from events.sql_store import SqlEventStore
from tests.integration.readmodels.builders import Person, mentorship, record

TODAY = date(2024, 6, 3)


async def _org(store: SqlEventStore) -> dict[str, Person]:
    ada, bob, cy, dee = Person("Ada"), Person("Bob"), Person("Cy"), Person("Dee")
    rotation = uuid4()
    await record(
        store,
        bob.hired(date(2015, 1, 5), prior_years=8, level="senior_pm"),
        ada.hired(date(2020, 1, 6), prior_years=1, manager=bob),
        cy.hired(date(2021, 3, 1), manager=bob),
        dee.hired(date(2019, 9, 2), prior_years=2, level="pm"),
        # Cy's promotion is agreed but takes effect after TODAY.
        cy.promoted(date(2024, 9, 2), "apm", "pm", exception="agreed early"),
    )
    await record(store, *mentorship(bob, ada, date(2021, 1, 4)))
    await record(
        store,
        ev.RoleRotationStarted(
            ada.person_id, date(2021, 2, 1), rotation, "Data", "business_impact", date(2021, 5, 3)
        ),
        ev.RoleRotationEnded(ada.person_id, date(2021, 5, 3), rotation, "done"),
        ada.trained(date(2021, 6, 1)),
    )
    return {"ada": ada, "bob": bob, "cy": cy, "dee": dee}


async def test_the_ready_filter_keeps_only_people_with_nothing_missing(
    engine: AsyncEngine, store: SqlEventStore, projector: Projector
) -> None:
    org = await _org(store)
    await projector.catch_up()
    ready = PeopleFilter(ready=True)
    found = await list_people(engine, ready, limit=10, today=TODAY)
    assert [e.person.name for e in found] == ["Ada"]
    assert await count_people(engine, ready, today=TODAY) == 1
    rest = PeopleFilter(ready=False)
    names = [e.person.name for e in await list_people(engine, rest, limit=10, today=TODAY)]
    assert names == ["Bob", "Cy", "Dee"]
    assert await count_people(engine, rest, today=TODAY) == 3
    assert org["ada"].person_id


@pytest.mark.parametrize("order", list(PeopleOrder))
async def test_pages_of_one_walk_everyone_once_in_every_order(
    engine: AsyncEngine, store: SqlEventStore, projector: Projector, order: PeopleOrder
) -> None:
    await _org(store)
    await projector.catch_up()
    everyone = await list_people(engine, PeopleFilter(), limit=10, today=TODAY, order=order)
    walked: list[str] = []
    after: PeopleKey | None = None
    while True:
        page = await list_people(
            engine, PeopleFilter(), limit=1, today=TODAY, after=after, order=order
        )
        if not page:
            break
        walked.append(page[0].person.name)
        after = page[0].key
    assert walked == [e.person.name for e in everyone]
    assert sorted(walked) == ["Ada", "Bob", "Cy", "Dee"]


async def test_levels_sort_most_senior_first_and_a_level_filter_counts_as_of_today(
    engine: AsyncEngine, store: SqlEventStore, projector: Projector
) -> None:
    await _org(store)
    await projector.catch_up()
    by_level = await list_people(
        engine, PeopleFilter(), limit=10, today=TODAY, order=PeopleOrder.LEVEL
    )
    # Cy sorts by the level recorded for September (the stored row) until it takes effect,
    # so the keyset stays the statement's order; the row itself shows today's level.
    assert [e.person.name for e in by_level] == ["Bob", "Cy", "Dee", "Ada"]
    assert [e.person.level for e in by_level] == ["senior_pm", "apm", "pm", "apm"]
    apms = PeopleFilter(level="apm")
    # Cy is still an APM today: the promotion recorded for September does not count yet.
    assert [e.person.name for e in await list_people(engine, apms, limit=10, today=TODAY)] == [
        "Ada",
        "Cy",
    ]
    assert await count_people(engine, apms, today=TODAY) == 2
    assert await count_people(engine, apms, today=date(2024, 9, 2)) == 1
