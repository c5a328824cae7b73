"""What ``CareerService.execute`` says a write did, on the real stores: the stream it
judged, the event the command is named for, and a repeated idempotency key answered only
for the operation it was first used for."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest

from domain import case_commands as cc
from domain import case_events as ce
from domain import commands as c
from events.bootstrap import Runtime
from events.errors import IdempotencyKeyReused
from events.port import Metadata
from tests.integration.conftest import TODAY

HR = Metadata(actor_id="hr-1", actor_role="hr")
ACTOR = cc.Actor("hr-1", None, hr=True)


def keyed(key: str) -> Metadata:
    return Metadata(actor_id="hr-1", actor_role="hr", idempotency_key=key)


def hiring(person_id: UUID, level: str = "apm", years: float = 3) -> c.HirePerson:
    return c.HirePerson(
        person_id=person_id,
        name=f"Person {person_id.hex[:6]}",
        email=f"{person_id.hex[:8]}@example.com",
        track="product",
        level=level,
        hired_on=date(2020, 1, 6),
        prior_years=years,
    )


async def hire(rt: Runtime, level: str = "apm", years: float = 3) -> UUID:
    person_id = uuid4()
    await rt.service.execute(hiring(person_id, level, years), metadata=HR)
    return person_id


def training(person_id: UUID) -> c.RecordTraining:
    return c.RecordTraining(person_id=person_id, program="Leading", effective_on=TODAY)


async def test_a_mentorship_is_judged_against_the_mentees_stream(runtime: Runtime) -> None:
    mentor = await hire(runtime, "senior_pm", years=6)
    mentee = await hire(runtime)
    result = await runtime.service.execute(
        c.StartMentorship(
            mentorship_id=uuid4(), mentor_id=mentor, mentee_id=mentee, effective_on=TODAY
        ),
        metadata=HR,
    )
    assert result.stream == f"person-{mentee}"
    assert (result.event.type, result.event.stream) == ("MentorshipStarted", result.stream)
    assert sorted(e.stream for e in result.events) == sorted(
        [f"person-{mentor}", f"person-{mentee}"]
    )
    assert result.stream_version == 2  # the mentee's hire, then this
    assert not result.replayed


async def test_an_approval_is_named_for_its_decision_in_the_case_stream(
    runtime: Runtime,
) -> None:
    person = await hire(runtime)
    case_id = uuid4()
    await runtime.service.execute(
        cc.NominateForPromotion(case_id, person, "pm", "ships", ACTOR), metadata=HR
    )
    result = await runtime.service.execute(
        cc.DecidePromotion(case_id, True, ACTOR, effective_on=TODAY), metadata=HR
    )
    assert (result.stream, result.event.type) == (ce.case_stream(case_id), "PromotionApproved")
    assert result.stream_version == 2
    assert [(e.type, e.stream) for e in result.events if e.stream != result.stream] == [
        ("PromotionRecorded", f"person-{person}")
    ]


async def test_a_key_first_used_for_another_command_is_refused_and_writes_nothing(
    runtime: Runtime,
) -> None:
    person = await hire(runtime)
    await runtime.service.execute(training(person), metadata=keyed("k-other-command"))
    before = await runtime.store.last_position()
    with pytest.raises(IdempotencyKeyReused) as raised:
        await runtime.service.execute(
            c.RecordDeparture(person_id=person, effective_on=TODAY, reason="Left"),
            metadata=keyed("k-other-command"),
        )
    assert (raised.value.code, raised.value.field) == ("IDEMPOTENCY_KEY_REUSED", "idempotencyKey")
    assert await runtime.store.last_position() == before
    assert [e.type for e in await runtime.store.read_stream(f"person-{person}")] == [
        "PersonHired",
        "LeadershipTrainingCompleted",
    ]


async def test_a_key_first_used_for_another_person_is_refused(runtime: Runtime) -> None:
    first, second = await hire(runtime), await hire(runtime)
    await runtime.service.execute(training(first), metadata=keyed("k-other-person"))
    before = await runtime.store.last_position()
    with pytest.raises(IdempotencyKeyReused):
        await runtime.service.execute(training(second), metadata=keyed("k-other-person"))
    assert await runtime.store.last_position() == before


async def test_a_repeated_key_answers_the_first_result_as_a_replay(runtime: Runtime) -> None:
    person = await hire(runtime)
    first = await runtime.service.execute(training(person), metadata=keyed("k-same"))
    again = await runtime.service.execute(training(person), metadata=keyed("k-same"))
    assert again.replayed and not first.replayed
    assert (again.event, again.stream, again.stream_version) == (
        first.event,
        first.stream,
        first.stream_version,
    )


async def test_a_replayed_hire_whose_id_was_made_up_reports_the_first_calls_person(
    runtime: Runtime,
) -> None:
    first_id = uuid4()
    first = await runtime.service.execute(
        hiring(first_id), metadata=keyed("k-hire"), made_up_id=True
    )
    retry = hiring(uuid4())  # the retry's made-up id is a new one
    again = await runtime.service.execute(retry, metadata=keyed("k-hire"), made_up_id=True)
    assert again.replayed
    assert again.stream == first.stream == f"person-{first_id}"
    with pytest.raises(IdempotencyKeyReused):  # a client's own id must be the first one
        await runtime.service.execute(retry, metadata=keyed("k-hire"))
    assert await runtime.store.read_stream(f"person-{retry.person_id}") == []
