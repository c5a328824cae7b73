"""An append's read models are written in the append's own transaction (one commit per
command), and equal what a rebuild from the log gives; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.commands import HirePerson, RecordDeparture, RecordPromotion, StartMentorship
from domain.serialization import to_data, type_name
from events.bootstrap import Runtime, bootstrap
from events.dead_letters import list_dead_letters
from events.port import Metadata, NewEvent, StreamAppend
from events.readmodels import tables
from tests.integration.readmodels.builders import Person

HR = Metadata(actor_id="hr-1", actor_role="hr")


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[object, ...]]]:
    out: dict[str, list[tuple[object, ...]]] = {}
    async with engine.connect() as conn:
        for table in (tables.people, tables.timeline, tables.mentorships, tables.ladders):
            rows = await conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            out[table.name] = [tuple(r) for r in rows]
    return out


async def hire(runtime: Runtime, name: str, level: str = "apm") -> uuid.UUID:
    person = uuid.uuid4()
    await runtime.service.execute(
        HirePerson(
            person_id=person,
            name=name,
            email=f"{name.lower()}@example.com",
            track="product",
            level=level,
            hired_on=date(2012, 1, 9),
            prior_years=12,
        ),
        metadata=HR,
    )
    return person


async def test_commands_are_projected_in_their_own_transaction_and_equal_a_rebuild(
    db_url: str,
) -> None:
    runtime = await bootstrap(db_url)
    try:
        ada, grace = await hire(runtime, "Ada"), await hire(runtime, "Grace", "director")
        before = await runtime.store.last_position()
        result = await runtime.service.execute(
            RecordPromotion(
                person_id=ada, to_level="pm", effective_on=date(2014, 3, 3), rationale="led"
            ),
            metadata=HR,
        )
        await runtime.service.execute(
            StartMentorship(
                mentorship_id=uuid.uuid4(),
                mentor_id=grace,
                mentee_id=ada,
                effective_on=date(2015, 1, 5),
            ),
            metadata=HR,
        )
        linus = await hire(runtime, "Linus")
        await runtime.service.execute(
            RecordDeparture(person_id=linus, effective_on=date(2016, 2, 1), reason="left"),
            metadata=HR,
        )
        assert result.position == before + 1
        checkpoints = await runtime.projector.checkpoints()
        last = await runtime.store.last_position()
        assert {c.position for c in checkpoints} == {last}
        inline = await snapshot(runtime.engine)
        await runtime.projector.rebuild()
        assert await snapshot(runtime.engine) == inline
    finally:
        await runtime.close()


async def test_an_append_the_inline_path_cannot_project_still_commits_and_is_caught_up(
    db_url: str,
) -> None:
    runtime = await bootstrap(db_url)
    try:
        hire_event = Person("Poison").hired(date(2021, 1, 4))
        data = {**to_data(hire_event), "effective_on": "not-a-date"}
        appended = await runtime.store.write(
            [
                StreamAppend(
                    f"person-{hire_event.person_id}",
                    [NewEvent(type_name(hire_event), data, event_id=uuid.uuid4())],
                )
            ],
            metadata=HR,
        )
        assert not appended.projected  # rolled back to its savepoint; the event committed
        assert await runtime.store.last_position() == appended.positions[-1]
        await runtime.projector.catch_up()
        letters = await list_dead_letters(runtime.engine)
        assert {(d.projection, d.position) for d in letters} == {
            ("people", appended.positions[0]),
            ("timeline", appended.positions[0]),
        }
        ada = await hire(runtime, "Ada")  # and the next command is projected inline again
        async with runtime.engine.connect() as conn:
            found = await conn.scalar(
                sa.select(tables.people.c.name).where(tables.people.c.person_id == str(ada))
            )
        assert found == "Ada"
    finally:
        await runtime.close()


async def test_concurrent_commands_share_one_projection_per_commit_and_need_no_catch_up(
    db_url: str,
) -> None:
    runtime = await bootstrap(db_url)
    try:
        names = [f"Batch{i}" for i in range(12)]
        caught_up: list[int] = []
        catch_up = runtime.projector.catch_up

        async def counted(*args: object, **kwargs: object) -> int:
            applied = await catch_up(*args, **kwargs)  # type: ignore[arg-type]
            caught_up.append(applied)
            return applied

        runtime.projector.catch_up = counted  # type: ignore[method-assign]
        await asyncio.gather(*(hire(runtime, name) for name in names))
        last = await runtime.store.last_position()
        # Each command's events were applied in its group commit's transaction.
        assert sum(caught_up) == 0
        assert runtime.projector.applied_to == last
        assert {c.position for c in await runtime.projector.checkpoints()} == {last}
        inline = await snapshot(runtime.engine)
        assert len(inline["rm_people"]) >= len(names)
        await runtime.projector.rebuild()
        assert await snapshot(runtime.engine) == inline
    finally:
        await runtime.close()
