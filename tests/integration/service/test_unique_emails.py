"""An email address belongs to one person (compared without case), on both backends; and
``ladder replay EMAIL`` never picks one of two people who share one."""

from __future__ import annotations

import asyncio
from datetime import date
from uuid import UUID, uuid4

import pytest

from domain import commands as c
from domain import errors
from domain.events import PersonHired
from events.bootstrap import Runtime, bootstrap
from events.port import Metadata
from events.service import encode
from tests.integration.cli.helpers import with_db
from tests.integration.conftest import TODAY

HR = Metadata(actor_id="hr-1", actor_role="hr")


def hiring(email: str, person_id: UUID | None = None) -> c.HirePerson:
    return c.HirePerson(
        person_id=person_id or uuid4(),
        name="Ada Lovelace",
        email=email,
        track="product",
        level="apm",
        hired_on=date(2020, 1, 6),
    )


async def test_a_second_person_with_the_same_email_in_another_case_is_refused(
    runtime: Runtime,
) -> None:
    await runtime.service.execute(hiring("ada@example.com"), metadata=HR)
    before = await runtime.store.last_position()
    with pytest.raises(errors.EmailAlreadyUsed) as refused:
        await runtime.service.execute(hiring(" Ada@Example.COM"), metadata=HR)
    assert (refused.value.code, refused.value.field) == ("EMAIL_ALREADY_USED", "email")
    assert await runtime.store.last_position() == before


async def test_correcting_an_email_to_another_persons_is_refused(runtime: Runtime) -> None:
    await runtime.service.execute(hiring("ada@example.com"), metadata=HR)
    other = await runtime.service.execute(hiring("grace@example.com"), metadata=HR)
    hire = other.events[0]
    person = UUID(hire.data["person_id"])
    fix = c.CorrectEvent(person, hire.event_id, {"email": "ADA@example.com"}, "typo")
    with pytest.raises(errors.EmailAlreadyUsed):
        await runtime.service.execute(fix, metadata=HR)
    own = c.CorrectEvent(person, hire.event_id, {"email": "Grace@example.com"}, "case")
    assert (await runtime.service.execute(own, metadata=HR)).events


async def write_hires_behind_the_service(db_url: str, ids: list[UUID]) -> None:
    """Two hires sharing an address, as a log from before the rule could hold them."""
    rt = await bootstrap(db_url, today=lambda: TODAY, listen=False)
    try:
        for pid in ids:
            hire = PersonHired(
                pid, date(2020, 1, 6), "Pat", "pat@example.com", "product", "apm", 0.0, None, 1
            )
            await rt.store.append(f"person-{pid}", [encode(hire)], "no_stream")
    finally:
        await rt.close()


def test_replay_by_an_email_two_people_share_names_both_and_picks_none(db_url: str) -> None:
    ids = [uuid4(), uuid4()]
    asyncio.run(write_hires_behind_the_service(db_url, ids))
    ran = with_db(db_url, "replay", "PAT@example.com")
    assert ran.exit_code == 4
    assert "2 people have the email PAT@example.com" in ran.stderr
    assert all(str(pid) in ran.stderr for pid in ids)
