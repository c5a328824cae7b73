"""The application service on the real stores: decide, append, retry, idempotency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from uuid import UUID, uuid4

import pytest

from domain import commands as c
from domain import errors
from events.bootstrap import Runtime, bootstrap
from events.errors import WrongExpectedVersion
from events.port import Metadata

TODAY = date(2026, 6, 1)
HR = Metadata(actor_id="hr-1", actor_role="hr")


@pytest.fixture
async def runtime(db_url: str) -> AsyncIterator[Runtime]:
    rt = await bootstrap(db_url, max_mentees=1, today=lambda: TODAY, listen=False)
    try:
        yield rt
    finally:
        await rt.close()


async def hire(rt: Runtime, level: str, *, years: float = 0.0) -> UUID:
    person_id = uuid4()
    await rt.service.execute(
        c.HirePerson(
            person_id=person_id,
            name=f"Person {person_id.hex[:6]}",
            email=f"{person_id.hex[:8]}@example.com",
            track="product",
            level=level,
            hired_on=date(2020, 1, 6),
            prior_years=years,
        ),
        metadata=HR,
    )
    return person_id


async def test_first_start_publishes_the_default_product_ladder(runtime: Runtime) -> None:
    ladders = await runtime.service.ladders()
    assert ladders["product"].levels[0].key == "apm"
    assert ladders["product"].version == 1


async def test_a_second_start_does_not_publish_the_ladder_again(db_url: str) -> None:
    first = await bootstrap(db_url, today=lambda: TODAY, listen=False)
    await first.close()
    second = await bootstrap(db_url, today=lambda: TODAY, listen=False)
    try:
        published = await second.store.read_stream("ladder-product")
        assert len(published) == 1
    finally:
        await second.close()


async def test_a_promotion_is_appended_after_the_hire(runtime: Runtime) -> None:
    person = await hire(runtime, "apm", years=3)
    result = await runtime.service.execute(
        c.RecordPromotion(
            person_id=person,
            to_level="pm",
            effective_on=date(2021, 3, 1),
            rationale="Ships features on their own",
        ),
        metadata=HR,
    )
    assert [e.type for e in result.events] == ["PromotionRecorded"]
    assert result.stream_version == 2
    assert result.events[0].metadata["actor_id"] == "hr-1"


async def test_a_refused_command_writes_nothing(runtime: Runtime) -> None:
    person = await hire(runtime, "apm")
    before = await runtime.store.last_position()
    with pytest.raises(errors.LevelSkipped):
        await runtime.service.execute(
            c.RecordPromotion(
                person_id=person,
                to_level="senior_pm",
                effective_on=date(2021, 3, 1),
                rationale="Too fast",
            ),
            metadata=HR,
        )
    assert await runtime.store.last_position() == before


async def test_a_repeated_idempotency_key_returns_the_first_result(runtime: Runtime) -> None:
    command = c.HirePerson(
        person_id=uuid4(),
        name="Ada",
        email="ada@example.com",
        track="product",
        level="apm",
        hired_on=date(2024, 1, 8),
    )
    meta = Metadata(actor_id="hr-1", actor_role="hr", idempotency_key="hire-ada")
    first = await runtime.service.execute(command, metadata=meta)
    again = await runtime.service.execute(command, metadata=meta)
    assert again.replayed
    assert [e.position for e in again.events] == [e.position for e in first.events]
    assert await runtime.store.last_position() == first.position


async def test_racing_identical_requests_write_once(runtime: Runtime) -> None:
    command = c.HirePerson(
        person_id=uuid4(),
        name="Grace",
        email="grace@example.com",
        track="product",
        level="apm",
        hired_on=date(2024, 1, 8),
    )
    meta = Metadata(actor_id="hr-1", actor_role="hr", idempotency_key="hire-grace")
    results = await asyncio.gather(
        *(runtime.service.execute(command, metadata=meta) for _ in range(4))
    )
    assert len({r.position for r in results}) == 1
    assert len(await runtime.store.read_stream(f"person-{command.person_id}")) == 1


async def test_a_stale_expected_version_is_a_retryable_conflict(runtime: Runtime) -> None:
    person = await hire(runtime, "apm", years=3)
    before = await runtime.store.last_position()
    with pytest.raises(WrongExpectedVersion) as raised:
        await runtime.service.execute(
            c.RecordTraining(
                person_id=person, program="Leading teams", effective_on=date(2021, 1, 4)
            ),
            metadata=HR,
            expected_version=7,
        )
    assert raised.value.actual == 1
    assert await runtime.store.last_position() == before


async def test_concurrent_assignments_never_exceed_the_mentor_capacity(runtime: Runtime) -> None:
    mentor = await hire(runtime, "senior_pm", years=6)
    mentees = [await hire(runtime, "apm") for _ in range(3)]
    outcomes = await asyncio.gather(
        *(
            runtime.service.execute(
                c.StartMentorship(
                    mentorship_id=uuid4(),
                    mentor_id=mentor,
                    mentee_id=mentee,
                    effective_on=date(2025, 1, 6),
                    goals=("Roadmaps",),
                ),
                metadata=HR,
            )
            for mentee in mentees
        ),
        return_exceptions=True,
    )
    succeeded = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, errors.MentorAtCapacity)]
    assert len(succeeded) == 1
    assert len(refused) == 2
    mentor_stream = await runtime.store.read_stream(f"person-{mentor}")
    assert [e.type for e in mentor_stream].count("MentorshipStarted") == 1


async def test_a_burst_of_writes_to_one_person_all_land_once(runtime: Runtime) -> None:
    person = await hire(runtime, "apm", years=3)
    results = await asyncio.gather(
        *(
            runtime.service.execute(
                c.RecordTraining(
                    person_id=person, program=f"Course {n}", effective_on=date(2021, 1, 4)
                ),
                metadata=HR,
            )
            for n in range(8)
        )
    )
    stream = await runtime.store.read_stream(f"person-{person}")
    assert [e.version for e in stream] == list(range(1, 10))
    assert sorted(r.position for r in results) == [e.position for e in stream[1:]]


async def test_a_command_answers_its_events_with_their_personal_data_open(
    runtime: Runtime,
) -> None:
    person_id = uuid4()
    result = await runtime.service.execute(
        c.HirePerson(
            person_id=person_id,
            name="Ottilie Marchbank",
            email="ottilie@example.com",
            track="product",
            level="apm",
            hired_on=date(2024, 1, 8),
        ),
        metadata=HR,
    )
    (hired,) = result.events
    assert (hired.data["name"], hired.data["email"]) == ("Ottilie Marchbank", "ottilie@example.com")
    assert "$sealed" not in hired.data
    (stored,) = await runtime.store.read_stream(f"person-{person_id}")
    assert stored == hired
