"""A poison event -- one a projection cannot apply or a read-model column cannot hold --
is recorded as a dead letter; every other event and projection carries on, and the
service starts again over the same log."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.serialization import to_data, type_name
from events.bootstrap import bootstrap
from events.dead_letters import degraded, list_dead_letters
from events.port import Metadata, NewEvent, StreamAppend
from events.projections import ALL
from events.projector import Projector
from events.readmodels import tables
from events.sql_store import SqlEventStore
from tests.integration.readmodels.builders import Person, record
from tests.support import backend


async def names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set((await conn.execute(sa.select(tables.people.c.name))).scalars())


async def append_poison(store: SqlEventStore, **overrides: object) -> int:
    """A hire written with the store directly (no validation), with ``overrides``."""
    hire = Person("Poison").hired(date(2021, 1, 4))
    data = {**to_data(hire), **overrides}
    [position] = await store.append_streams(
        [
            StreamAppend(
                f"person-{hire.person_id}", [NewEvent(type_name(hire), data, event_id=uuid4())]
            )
        ],
        metadata=Metadata(actor_id="hr-1"),
    )
    return position


async def test_an_event_a_projection_cannot_apply_is_a_dead_letter_and_the_rest_goes_on(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    await record(store, Person("Ada").hired(date(2020, 1, 6)))
    poison = await append_poison(store, effective_on="not-a-date")
    await record(store, Person("Grace").hired(date(2020, 2, 3)))
    projector = Projector(engine, store, ALL)
    await projector.start()

    assert {"Ada", "Grace"} <= await names(engine)
    letters = await list_dead_letters(engine)
    assert {d.projection for d in letters} >= {"people"}
    assert {d.position for d in letters} == {poison}
    assert all(d.event_type == "PersonHired" and "date" in d.error for d in letters)
    assert (await degraded(engine)).get("people") == 1

    # Later events still project, and a restarted projector starts over the same log.
    await record(store, Person("Linus").hired(date(2020, 3, 2)))
    await projector.catch_up()
    assert "Linus" in await names(engine)
    again = Projector(engine, store, ALL)
    await again.start()
    assert {c.name for c in await again.check_consistency() if not c.ok} == set()

    # A rebuild meets the same event again: the dead letters are replaced, not doubled.
    await again.rebuild()
    assert {"Ada", "Grace", "Linus"} <= await names(engine)
    assert [(d.projection, d.position) for d in await list_dead_letters(engine)] == [
        (d.projection, d.position) for d in letters
    ]


async def test_a_value_a_column_cannot_hold_is_a_dead_letter_on_every_backend(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    # PostgreSQL text cannot hold NUL; SQLite can (so there it is simply stored).
    await record(store, Person("Ada").hired(date(2020, 1, 6)))
    poison = await append_poison(store, name="Nul\x00Name")
    projector = Projector(engine, store, ALL)
    await projector.start()
    await record(store, Person("Grace").hired(date(2020, 2, 3)))
    await projector.catch_up()
    assert {"Ada", "Grace"} <= await names(engine)
    letters = await list_dead_letters(engine)
    if backend(engine) == "postgresql":
        assert poison in {d.position for d in letters}
        assert "people" in await degraded(engine)
        await projector.rebuild()
        assert {"Ada", "Grace"} <= await names(engine)
        assert "people" in await degraded(engine)
    else:
        assert letters == []


async def test_the_service_answers_and_starts_again_over_a_poisoned_log(db_url: str) -> None:
    runtime = await bootstrap(db_url)
    try:
        await append_poison(runtime.store, effective_on="not-a-date")
        await runtime.projector.catch_up()
    finally:
        await runtime.close()
    runtime = await bootstrap(db_url)  # starts: the projector does not stop on it
    try:
        await record(runtime.store, Person("Ada").hired(date(2020, 1, 6)))
        await runtime.projector.catch_up()
        assert "Ada" in await names(runtime.engine)
        assert "people" in await degraded(runtime.engine)
    finally:
        await runtime.close()
