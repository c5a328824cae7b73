"""Rules that read more than the stream they write hold when requests race: two
runtimes (two processes' worth of store, writer and pool) on one database, many requests
at once, on both backends. The loser is told the rule it broke (or a retryable
conflict), and the log never holds a shared email or a cycle of managers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import date
from uuid import UUID, uuid4

import pytest

from domain import commands as c
from domain import errors
from domain.events import PersonHired
from domain.org_chart import manager_on
from events.bootstrap import Runtime, bootstrap
from events.db import create_engine
from events.errors import WrongExpectedVersion
from events.onboarding import import_people
from events.port import NO_STREAM, Metadata
from events.readmodels.emails import EmailFree, people_with_email
from events.results import CommandResult
from events.service import encode
from events.sql_store import SqlEventStore

TODAY = date(2026, 6, 1)
ON = date(2024, 1, 1)
HR = Metadata(actor_id="hr-1", actor_role="hr")


@pytest.fixture
async def runtimes(db_url: str) -> AsyncIterator[tuple[Runtime, Runtime]]:
    first = await bootstrap(db_url, today=lambda: TODAY, listen=False)
    second = await bootstrap(db_url, today=lambda: TODAY, listen=False)
    try:
        yield first, second
    finally:
        await second.close()
        await first.close()


def hiring(email: str, manager: UUID | None = None) -> c.HirePerson:
    return c.HirePerson(
        person_id=uuid4(),
        name="Ada Lovelace",
        email=email,
        track="product",
        level="apm",
        hired_on=date(2020, 1, 6),
        manager_id=manager,
    )


async def race(
    pairs: Sequence[tuple[Runtime, c.Command]],
) -> list[CommandResult | BaseException]:
    return await asyncio.gather(
        *(rt.service.execute(command, metadata=HR) for rt, command in pairs),
        return_exceptions=True,
    )


def refusals(outcomes: Sequence[object]) -> list[str]:
    codes = []
    for outcome in outcomes:
        if isinstance(outcome, errors.LadderError | WrongExpectedVersion):
            codes.append(outcome.code)
        elif isinstance(outcome, BaseException):
            raise outcome
    return codes


async def test_racing_hires_with_one_email_leave_it_to_one_person(
    runtimes: tuple[Runtime, Runtime],
) -> None:
    for round_ in range(3):
        address = f"ada{round_}@example.com"
        spellings = [address, address.upper(), f" {address.title()}"]
        outcomes = await race([(runtimes[i % 2], hiring(spellings[i % 3])) for i in range(12)])
        written = [o for o in outcomes if isinstance(o, CommandResult)]
        assert len(written) == 1, outcomes
        assert set(refusals(outcomes)) <= {"EMAIL_ALREADY_USED", "CONCURRENCY_CONFLICT"}
        assert "EMAIL_ALREADY_USED" in refusals(outcomes)
        await runtimes[0].projector.catch_up()
        assert len(await people_with_email(runtimes[0].engine, address)) == 1


async def test_racing_email_corrections_leave_the_address_to_one_person(
    runtimes: tuple[Runtime, Runtime],
) -> None:
    hires = [await runtimes[0].service.execute(hiring(f"p{i}@example.com")) for i in range(6)]
    fixes = [
        c.CorrectEvent(
            UUID(h.events[0].data["person_id"]), h.events[0].event_id, {"email": "x@ex.com"}, "typo"
        )
        for h in hires
    ]
    outcomes = await race([(runtimes[i % 2], fix) for i, fix in enumerate(fixes)])
    assert len([o for o in outcomes if isinstance(o, CommandResult)]) == 1, outcomes
    assert "EMAIL_ALREADY_USED" in refusals(outcomes)
    await runtimes[0].projector.catch_up()
    assert len(await people_with_email(runtimes[0].engine, "X@ex.com")) == 1


async def chart_has_cycle(rt: Runtime, people: Sequence[UUID], on: date) -> bool:
    managers = {}
    for pid in people:
        state, _ = await rt.service.load_person(pid)
        managers[pid] = manager_on(state, on)
    for start in people:
        seen = {start}
        current = managers.get(start)
        while current is not None:
            if current in seen:
                return True
            seen.add(current)
            current = managers.get(current)
    return False


async def test_racing_manager_changes_never_close_a_cycle(
    runtimes: tuple[Runtime, Runtime],
) -> None:
    for size in (2, 3, 4, 2, 3):
        people = [
            UUID(
                (await runtimes[0].service.execute(hiring(f"{uuid4()}@example.com")))
                .events[0]
                .data["person_id"]
            )
            for _ in range(size)
        ]
        # Each person to the next, the last to the first: together, a ring.
        changes = [c.ChangeManager(pid, people[(i + 1) % size], ON) for i, pid in enumerate(people)]
        outcomes = await race([(runtimes[i % 2], ch) for i, ch in enumerate(changes)])
        codes = refusals(outcomes)
        assert codes, outcomes  # a whole ring cannot be written
        assert set(codes) <= {"MANAGER_CYCLE", "CONCURRENCY_CONFLICT"}
        assert not await chart_has_cycle(runtimes[0], people, ON)
        assert not await chart_has_cycle(runtimes[0], people, TODAY)


async def test_an_import_racing_hires_for_its_addresses_leaves_each_to_one_person(
    runtimes: tuple[Runtime, Runtime],
) -> None:
    header = "name,email,track,level,hired_on,prior_years,manager_email,experience_exception\n"
    for round_ in range(3):
        addresses = [f"row{round_}-{i}@example.com" for i in range(4)]
        text = header + "".join(f"Row {i},{a},product,apm,2024-02-01,0,,\n" for i, a in
                                enumerate(addresses))  # fmt: skip
        imported, *hires = await asyncio.gather(
            import_people(runtimes[0].service, text, actor="hr-1"),
            *(runtimes[1].service.execute(hiring(a.upper()), metadata=HR) for a in addresses[:2]),
            return_exceptions=True,
        )
        if isinstance(imported, BaseException):
            assert isinstance(imported, errors.EmailAlreadyUsed), imported
        await runtimes[0].projector.catch_up()
        for address in addresses[:2]:
            assert len(await people_with_email(runtimes[0].engine, address)) == 1, hires


async def test_a_correction_that_would_make_a_cycle_of_managers_is_refused(
    runtimes: tuple[Runtime, Runtime],
) -> None:
    run = runtimes[0].service.execute
    top = (await run(hiring(f"{uuid4()}@example.com"), metadata=HR)).events[0]
    top_id = UUID(top.data["person_id"])
    below = await run(hiring(f"{uuid4()}@example.com", manager=top_id), metadata=HR)
    below_id = UUID(below.events[0].data["person_id"])
    other = await run(hiring(f"{uuid4()}@example.com"), metadata=HR)
    change = (await run(c.ChangeManager(top_id, UUID(other.events[0].data["person_id"]), ON),
                        metadata=HR)).events[0]  # fmt: skip
    fix = c.CorrectEvent(top_id, change.event_id, {"manager_id": str(below_id)}, "wrong person")
    with pytest.raises(errors.ManagerCycle):
        await run(fix, metadata=HR)
    hire_fix = c.CorrectEvent(top_id, top.event_id, {"manager_id": str(below_id)}, "x")
    with pytest.raises(errors.ManagerCycle):
        await run(hire_fix, metadata=HR)


async def test_an_address_hired_past_the_read_models_checkpoint_is_still_refused(
    db_url: str, runtimes: tuple[Runtime, Runtime]
) -> None:
    """The store's own check reads the log after the people read model's checkpoint, so a
    hire the read models have not applied yet (written by a bare store here) counts."""
    engine = create_engine(db_url)
    bare = SqlEventStore(engine)  # no read models in its transactions, no listeners
    try:
        first = hiring("lag@example.com")
        hired = PersonHired(
            first.person_id, first.hired_on, "Pat", "lag@example.com", "product", "apm", 0.0,
            None, 1,
        )  # fmt: skip
        await bare.append(f"person-{first.person_id}", [encode(hired)], NO_STREAM)
    finally:
        await bare.close()
        await engine.dispose()
    refused = await asyncio.gather(
        *(rt.service.execute(hiring("LAG@example.com"), metadata=HR) for rt in runtimes),
        return_exceptions=True,
    )
    assert [type(r) for r in refused] == [errors.EmailAlreadyUsed] * 2, refused


def test_the_email_check_counts_hires_and_corrections_past_the_checkpoint() -> None:
    owner, other, eid = uuid4(), uuid4(), str(uuid4())
    check = EmailFree("Ada@Example.com", uuid4())
    hired = {"person_id": str(owner), "email": "ada@example.COM"}
    with pytest.raises(errors.EmailAlreadyUsed):
        check._judge(set(), [("PersonHired", hired, eid)], {})
    corrected = {"person_id": str(other), "changes": {"email": " ADA@example.com"}}
    with pytest.raises(errors.EmailAlreadyUsed):
        check._judge(set(), [("EventCorrected", corrected, eid)], {})
    other_hire = {"person_id": str(owner), "email": "bob@example.com"}
    check._judge(set(), [("PersonHired", other_hire, eid)], {})
    EmailFree("ada@example.com", owner)._judge({str(owner)}, [], {})
