from __future__ import annotations

from datetime import date
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncEngine

from events.projector import Projector
from events.readmodels import api_queries, queries
from events.sql_store import SqlEventStore
from tests.integration.readmodels.builders import Person, mentorship, record

TODAY = date(2024, 6, 3)


async def test_get_people_answers_in_the_order_asked_with_none_for_strangers(
    engine: AsyncEngine, store: SqlEventStore, projector: Projector
) -> None:
    ada, bob = Person("Ada"), Person("Bob")
    await record(store, ada.hired(date(2020, 1, 6)), bob.hired(date(2021, 1, 4)))
    await projector.catch_up()
    found = await queries.get_people(engine, [bob.person_id, uuid4(), ada.person_id])
    assert [p.name if p else None for p in found] == ["Bob", None, "Ada"]


async def test_years_of_experience_count_prior_years_and_tenure_without_time_away(
    engine: AsyncEngine, store: SqlEventStore, projector: Projector
) -> None:
    ada = Person("Ada")
    await record(store, ada.hired(date(2018, 1, 1), prior_years=1), ada.departed(date(2019, 1, 1)))
    await record(store, ada.rehired(date(2022, 1, 1), "apm"))
    await projector.catch_up()
    person = await queries.get_person(engine, ada.person_id, today=TODAY)
    assert person is not None
    assert round(person.years_of_experience(date(2023, 1, 1)), 2) == 3.0
    assert person.days_in_level(date(2022, 1, 11)) == 10


async def test_a_future_dated_promotion_shows_only_from_its_date(
    engine: AsyncEngine, store: SqlEventStore, projector: Projector
) -> None:
    ada = Person("Ada")
    await record(store, ada.hired(date(2020, 1, 6)), ada.promoted(date(2024, 9, 2), "apm", "pm"))
    await projector.catch_up()
    before = await queries.get_person(engine, ada.person_id, today=TODAY)
    after = await queries.get_person(engine, ada.person_id, today=date(2024, 9, 2))
    assert (before and before.level, after and after.level) == ("apm", "pm")


async def test_list_people_pages_by_name_with_a_keyset_cursor_and_filters(
    engine: AsyncEngine, store: SqlEventStore, projector: Projector
) -> None:
    names = ["Cy", "Ada", "Bea", "Dee", "Eve"]
    await record(store, *(Person(n).hired(date(2020, 1, 6)) for n in names))
    await projector.catch_up()
    # The roster's one read function (what `people` serves), fetching one more than a page.
    today = date(2024, 1, 1)
    everyone = api_queries.PeopleFilter()
    first = await api_queries.list_people(engine, everyone, limit=3, today=today)
    second = await api_queries.list_people(
        engine, everyone, limit=3, today=today, after=first[1].key
    )
    last = await api_queries.list_people(
        engine, everyone, limit=3, today=today, after=second[1].key
    )
    pages = [first[:2], second[:2], last[:2]]
    assert [e.person.name for page in pages for e in page] == sorted(names)
    assert (len(first), len(last)) == (3, 1)
    found = await api_queries.list_people(
        engine, api_queries.PeopleFilter(search="EVE@"), limit=3, today=today
    )
    assert [e.person.name for e in found] == ["Eve"]


async def test_reports_of_a_manager_include_indirect_reports(
    engine: AsyncEngine, store: SqlEventStore, projector: Projector
) -> None:
    boss, mid, ic, other = Person("Boss"), Person("Mid"), Person("Ic"), Person("Other")
    d = date(2020, 1, 6)
    await record(
        store,
        boss.hired(d),
        mid.hired(d, manager=boss),
        ic.hired(d, manager=mid),
        other.hired(d),
    )
    await projector.catch_up()
    everyone = await queries.reports_of(engine, boss.person_id)
    direct = await queries.reports_of(engine, boss.person_id, direct_only=True)
    assert set(everyone) == {mid.person_id, ic.person_id}
    assert direct == [mid.person_id]


async def test_census_stats_and_exceptions_follow_promotions_and_rescinds(
    engine: AsyncEngine, store: SqlEventStore, projector: Projector
) -> None:
    ada, bob = Person("Ada"), Person("Bob")
    early = bob.promoted(date(2021, 2, 1), "apm", "pm", exception="exceptional launch")
    await record(
        store,
        ada.hired(date(2020, 1, 6)),
        bob.hired(date(2020, 1, 6)),
        ada.promoted(date(2022, 1, 6), "apm", "pm"),
        early,
    )
    await projector.catch_up()
    census = await queries.level_census(engine)
    assert [(c.level, c.headcount) for c in census] == [("pm", 2)]
    stats = await queries.promotion_stats(engine)
    assert [(q.level, q.quarter, q.promotions) for q in stats.per_quarter] == [
        ("pm", "2021-Q1", 1),
        ("pm", "2022-Q1", 1),
    ]
    assert [(t.level, t.promotions) for t in stats.time_in_level] == [("apm", 2)]
    [exception] = await queries.experience_exceptions(engine)
    assert (exception.name, exception.reason) == ("Bob", "exceptional launch")
    await record(store, bob.rescinded(date(2021, 3, 1), early.event_id))
    await projector.catch_up()
    assert await queries.experience_exceptions(engine) == []
    census = await queries.level_census(engine)
    assert [(c.level, c.headcount) for c in census] == [("apm", 1), ("pm", 1)]


async def test_readiness_lists_what_is_missing_for_the_next_level(
    engine: AsyncEngine, store: SqlEventStore, projector: Projector
) -> None:
    grace, ada = Person("Grace", level="spm"), Person("Ada")
    rotation = ada.rotation(date(2023, 1, 2), date(2023, 3, 31))
    await record(store, grace.hired(date(2010, 1, 4)), ada.hired(date(2020, 1, 6), prior_years=1))
    await record(store, rotation, ada.rotation_ended(date(2023, 3, 31), rotation.rotation_id))
    await record(store, *mentorship(grace, ada, date(2023, 5, 1)))
    await projector.catch_up()
    person = await queries.get_person(engine, ada.person_id, today=TODAY)
    assert person is not None
    ladder = queries.ladder_of(await queries.ladders(engine), person.track)
    ready = queries.readiness_of(person, ladder, TODAY)
    assert (ready.next_level, ready.experience_met) == ("pm", True)
    assert ready.missing == ("leadership_training", "performance_and_impact")
    [entry] = (await queries.mentorships(engine, mentee_id=ada.person_id)).items
    assert entry.mentor_id == grace.person_id
    mentor = await queries.get_person(engine, grace.person_id, today=TODAY)
    assert mentor is not None and mentor.active_mentees == 1


async def test_rotations_ending_soon_are_the_active_ones_within_the_window(
    engine: AsyncEngine, store: SqlEventStore, projector: Projector
) -> None:
    ada, bob = Person("Ada"), Person("Bob")
    await record(
        store,
        ada.hired(date(2020, 1, 6)),
        bob.hired(date(2020, 1, 6)),
        ada.rotation(date(2024, 5, 1), date(2024, 6, 20)),
        bob.rotation(date(2024, 5, 1), date(2024, 9, 30)),
    )
    await projector.catch_up()
    soon = await queries.rotations(engine, ending_within_days=30, today=TODAY)
    assert [r.person_id for r in soon] == [ada.person_id]
    person = await queries.get_person(engine, ada.person_id, today=TODAY)
    assert person is not None and person.rotation_team == "growth"


async def test_a_correction_changes_the_timeline_values_and_keeps_the_original(
    engine: AsyncEngine, store: SqlEventStore, projector: Projector
) -> None:
    ada = Person("Ada")
    hire = ada.hired(date(2020, 1, 6))
    await record(store, hire)
    await record(store, ada.corrected(date(2020, 2, 1), hire.event_id, effective_on="2020-01-13"))
    await projector.catch_up()
    [entry] = await queries.timeline(engine, ada.person_id)
    assert entry.effective_on == date(2020, 1, 13)
    assert entry.original_data is not None
    assert entry.original_data["effective_on"] == "2020-01-06"
    assert entry.corrected_by == entry.corrections[0].event_id
    person = await queries.get_person(engine, ada.person_id)
    assert person is not None and person.hired_on == date(2020, 1, 13)
