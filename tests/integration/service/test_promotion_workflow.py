"""The promotion workflow on the real stores: a nomination never joins a cycle closed
before it was appended, and an approval and its promotion are one append."""

from __future__ import annotations

import asyncio
from datetime import date
from uuid import UUID, uuid4

from domain import case_commands as cc
from domain import case_events as ce
from domain import commands as c
from domain.errors import LadderError
from events.bootstrap import Runtime
from events.port import Metadata
from tests.integration.conftest import TODAY

META = Metadata(actor_id="hr-1", actor_role="hr")
HR = cc.Actor("hr-1", None, hr=True)


async def hire(rt: Runtime) -> UUID:
    person_id = uuid4()
    await rt.service.execute(
        c.HirePerson(
            person_id=person_id,
            name=f"Person {person_id.hex[:6]}",
            email=f"{person_id.hex[:8]}@example.com",
            track="product",
            level="apm",
            hired_on=date(2020, 1, 6),
            prior_years=3,
        ),
        metadata=META,
    )
    return person_id


def nominate(person: UUID) -> cc.NominateForPromotion:
    return cc.NominateForPromotion(uuid4(), person, "pm", "ships", HR)


async def test_a_nomination_racing_a_close_never_joins_the_closed_cycle(runtime: Runtime) -> None:
    cycle = uuid4()
    service = runtime.service
    await service.execute(cc.OpenPromotionCycle(cycle, "H1", TODAY, HR), metadata=META)
    people = [await hire(runtime) for _ in range(6)]
    commands = [nominate(p) for p in people]
    await asyncio.gather(
        *(service.execute(n, metadata=META) for n in commands[:3]),
        service.execute(cc.ClosePromotionCycle(cycle, HR), metadata=META),
        *(service.execute(n, metadata=META) for n in commands[3:]),
    )
    [_, closed] = await runtime.store.read_stream(ce.CYCLES_STREAM)
    for command in commands:
        [nominated] = await runtime.store.read_stream(ce.case_stream(command.case_id))
        joined = nominated.data.get("cycle_id")
        assert joined in (None, str(cycle))
        assert (joined is not None) == (nominated.position < closed.position)


async def test_an_approval_and_a_direct_promotion_racing_record_one_promotion(
    runtime: Runtime,
) -> None:
    service = runtime.service
    person = await hire(runtime)
    nomination = nominate(person)
    await service.execute(nomination, metadata=META)
    approve = cc.DecidePromotion(nomination.case_id, True, HR, effective_on=date(2026, 5, 4))
    direct = c.RecordPromotion(
        person_id=person, to_level="pm", effective_on=date(2026, 5, 11), rationale="direct"
    )
    outcomes = await asyncio.gather(
        service.execute(approve, metadata=META),
        service.execute(direct, metadata=META),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, LadderError)]
    assert len(refused) == 1, outcomes
    promotions = [
        e
        for e in await runtime.store.read_stream(f"person-{person}")
        if e.type == "PromotionRecorded"
    ]
    assert len(promotions) == 1
    case = await runtime.store.read_stream(ce.case_stream(nomination.case_id))
    approved = [e for e in case if e.type == "PromotionApproved"]
    if approved:
        assert approved[0].data["promotion_event_id"] == str(promotions[0].event_id)
        assert abs(approved[0].position - promotions[0].position) == 1
    else:
        assert promotions[0].data["rationale"] == "direct"
