from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from uuid import UUID

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from events.sql_store import SqlEventStore
from events.timetravel import career_facts_as_of, census_as_of, person_as_of
from tests.integration.readmodels.builders import Person, record

DEC_31 = date(2023, 12, 31)
JAN_10 = datetime(2024, 1, 10, 12, tzinfo=UTC)
JAN_20 = datetime(2024, 1, 20, 12, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2023, 12, 1, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def clocked(engine: AsyncEngine, clock: Clock) -> SqlEventStore:
    return SqlEventStore(engine, clock=clock)


async def history_with_a_late_correction(store: SqlEventStore, clock: Clock) -> Person:
    """Promoted effective 1 Dec (recorded 1 Dec); on 15 Jan the date is corrected to 2 Jan."""
    ada = Person("Ada")
    promotion = ada.promoted(date(2023, 12, 1), "apm", "pm")
    await record(store, ada.hired(date(2020, 1, 6)), promotion)
    clock.now = datetime(2024, 1, 15, 9, tzinfo=UTC)
    await record(
        store, ada.corrected(date(2024, 1, 15), promotion.event_id, effective_on="2024-01-02")
    )
    return ada


async def test_the_record_on_10_january_about_31_december_predates_the_correction(
    clocked: SqlEventStore, clock: Clock
) -> None:
    ada = await history_with_a_late_correction(clocked, clock)
    then = await person_as_of(clocked, ada.person_id, as_of=DEC_31, known_at=JAN_10)
    later = await person_as_of(clocked, ada.person_id, as_of=DEC_31, known_at=JAN_20)
    assert then is not None and later is not None
    assert (then.career.level, later.career.level) == ("pm", "apm")
    assert then.known_through == 2


async def test_a_person_not_yet_hired_on_the_date_has_no_view(
    clocked: SqlEventStore, clock: Clock
) -> None:
    ada = await history_with_a_late_correction(clocked, clock)
    assert await person_as_of(clocked, ada.person_id, as_of=date(2019, 1, 1)) is None
    early = datetime(2023, 1, 1, tzinfo=UTC)
    assert await person_as_of(clocked, ada.person_id, known_at=early) is None


async def test_career_history_marks_corrected_facts_only_once_the_correction_is_known(
    clocked: SqlEventStore, clock: Clock
) -> None:
    ada = await history_with_a_late_correction(clocked, clock)
    then = await career_facts_as_of(clocked, ada.person_id, as_of=DEC_31, known_at=JAN_10)
    now = await career_facts_as_of(clocked, ada.person_id, as_of=DEC_31)
    assert then is not None and now is not None
    assert [(f.type, f.corrected, f.effective) for f in then.facts] == [
        ("PersonHired", False, True),
        ("PromotionRecorded", False, True),
    ]
    assert [(f.type, f.corrected, f.effective) for f in now.facts] == [
        ("PersonHired", False, True),
        ("PromotionRecorded", True, False),
    ]
    assert now.facts[1].effective_on == date(2024, 1, 2)


async def test_census_as_of_counts_the_levels_known_at_a_time(
    clocked: SqlEventStore, clock: Clock
) -> None:
    await history_with_a_late_correction(clocked, clock)
    bob = Person("Bob")
    await record(clocked, bob.hired(date(2024, 1, 8)))
    then = await census_as_of(clocked, as_of=DEC_31, known_at=JAN_10)
    now = await census_as_of(clocked, as_of=date(2024, 1, 31))
    assert then.headcount == {("product", "pm"): 1}
    assert now.headcount == {("product", "apm"): 1, ("product", "pm"): 1}


async def test_a_view_known_before_a_correction_was_withdrawn_still_shows_the_correction(
    clocked: SqlEventStore, clock: Clock
) -> None:
    ada = await history_with_a_late_correction(clocked, clock)
    [correction] = [
        e
        for e in await clocked.read_stream(f"person-{ada.person_id}")
        if e.type == "EventCorrected"
    ]
    clock.now = datetime(2024, 2, 1, 9, tzinfo=UTC)
    withdrawal = ada.rescinded(date(2024, 2, 1), correction.event_id)
    fact = UUID(str(correction.data["target_event_id"]))
    await record(clocked, replace(withdrawal, fact_event_id=fact))
    before = await person_as_of(clocked, ada.person_id, as_of=DEC_31, known_at=JAN_20)
    after = await person_as_of(clocked, ada.person_id, as_of=DEC_31)
    assert before is not None and after is not None
    assert (before.career.level, after.career.level) == ("apm", "pm")
