"""Every fix of a rotation can itself be withdrawn by a new event, and the rotations read
model follows (a correction withdrawn, a rescission undone), on both backends."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from domain import commands as c
from events.bootstrap import Runtime
from events.port import Metadata
from events.readmodels import queries

HR = Metadata(actor_id="hr-1", actor_role="hr")


async def rotations_of(rt: Runtime, person: UUID) -> list[tuple[str, date, bool]]:
    await rt.projector.catch_up()
    found = await queries.rotations(rt.engine, person_id=person)
    return [(r.host_team, r.planned_end_on, r.active) for r in found]


async def test_a_withdrawn_rotation_correction_and_an_undone_rotation_rescission_show_in_the_views(
    runtime: Runtime,
) -> None:
    run = runtime.service.execute
    person = uuid4()
    await run(
        c.HirePerson(person, "Ada", f"{person}@example.com", "product", "apm", date(2020, 1, 6)),
        metadata=HR,
    )
    start = (
        await run(
            c.StartRotation(
                uuid4(), person, "Growth", "role_rotation", date(2021, 1, 4), date(2021, 3, 31)
            ),
            metadata=HR,
        )
    ).events[0]
    original = [("Growth", date(2021, 3, 31), True)]
    assert await rotations_of(runtime, person) == original

    fix = c.CorrectEvent(person, start.event_id, {"planned_end_on": "2021-06-30"}, "longer")
    correction = (await run(fix, metadata=HR)).events[0]
    assert await rotations_of(runtime, person) == [("Growth", date(2021, 6, 30), True)]
    await run(c.RescindEvent(person, correction.event_id, "it was not extended"), metadata=HR)
    assert await rotations_of(runtime, person) == original

    rescind = (await run(c.RescindEvent(person, start.event_id, "never"), metadata=HR)).events[0]
    assert await rotations_of(runtime, person) == []
    await run(c.RescindEvent(person, rescind.event_id, "it did happen"), metadata=HR)
    assert await rotations_of(runtime, person) == original
