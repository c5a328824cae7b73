from __future__ import annotations

import asyncio
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events import projector as projector_module
from events import swap
from events.db import create_engine
from events.projections import ALL, people
from events.projections.base import Projection
from events.projector import Projector
from events.readmodels import tables
from events.sql_store import SqlEventStore
from tests.integration.readmodels.builders import Person, mentorship, record
from tests.support import backend


async def rows(engine: AsyncEngine, table: sa.Table) -> list[dict[str, object]]:
    async with engine.connect() as conn:
        result = await conn.execute(sa.select(table).order_by(*table.primary_key.columns))
        return [dict(r._mapping) for r in result]


async def test_catch_up_projects_a_hire_into_people_and_timeline(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    ada = Person("Ada")
    await record(store, ada.hired(date(2020, 1, 6), prior_years=2))
    projector = Projector(engine, store, ALL)
    await projector.start()
    [person] = await rows(engine, tables.people)
    assert (person["name"], person["level"], person["status"]) == ("Ada", "apm", "active")
    assert person["experience_since"] == date(2020, 1, 6)
    [fact] = await rows(engine, tables.timeline)
    assert (fact["type"], fact["actor_id"], fact["level"]) == ("PersonHired", "hr-1", "apm")


async def test_rescinding_a_promotion_restores_the_earlier_level(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    ada = Person("Ada")
    promotion = ada.promoted(date(2022, 1, 3), "apm", "pm")
    await record(store, ada.hired(date(2020, 1, 6)), promotion)
    projector = Projector(engine, store, ALL)
    await projector.start()
    await record(store, ada.rescinded(date(2022, 2, 1), promotion.event_id))
    await projector.catch_up()
    [person] = await rows(engine, tables.people)
    assert (person["level"], person["level_since"]) == ("apm", date(2020, 1, 6))
    facts = {r["type"]: r for r in await rows(engine, tables.timeline)}
    assert facts["PromotionRecorded"]["rescinded_by"] is not None


async def test_a_mentorship_recorded_in_two_streams_is_one_row(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    grace, ada = Person("Grace", level="spm"), Person("Ada")
    await record(store, grace.hired(date(2015, 1, 5)), ada.hired(date(2020, 1, 6)))
    await record(store, *mentorship(grace, ada, date(2021, 3, 1)))
    projector = Projector(engine, store, ALL)
    await projector.start()
    [m] = await rows(engine, tables.mentorships)
    assert m["active"] and m["mentor_id"] == str(grace.person_id)
    by_name = {r["name"]: r for r in await rows(engine, tables.people)}
    assert by_name["Grace"]["active_mentees"] == 1
    assert by_name["Ada"]["mentorship_done"]


async def test_catch_up_is_idempotent_and_counts_each_event_once(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    ada = Person("Ada")
    await record(store, ada.hired(date(2020, 1, 6)), ada.trained(date(2020, 6, 1)))
    projector = Projector(engine, store, ALL)
    await projector.start()
    assert await projector.catch_up() == 0
    counts = {c.name: c.applied_count for c in await projector.checkpoints()}
    assert counts == {
        "ladders": 0,
        "mentorships": 0,
        "people": 2,
        "promotion_cases": 0,
        "promotion_cycles": 0,
        "rotations": 0,
        "timeline": 2,
    }


async def test_rebuild_gives_the_same_rows_as_incremental_catch_up(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    ada, bob = Person("Ada"), Person("Bob")
    projector = Projector(engine, store, ALL)
    await projector.start()
    hire = ada.hired(date(2020, 1, 6))
    await record(store, hire, bob.hired(date(2021, 1, 4), prior_years=3))
    await projector.catch_up()
    await record(store, ada.corrected(date(2020, 2, 1), hire.event_id, effective_on="2020-01-13"))
    await record(store, ada.promoted(date(2022, 1, 3), "apm", "pm"))
    await projector.catch_up()
    before = {t.name: await rows(engine, t) for t in (tables.people, tables.timeline)}
    seen: list[tuple[int, int]] = []
    await projector.rebuild(progress=lambda p, last: seen.append((p, last)))
    after = {t.name: await rows(engine, t) for t in (tables.people, tables.timeline)}
    assert after == before
    assert seen[-1] == (4, 4)


async def test_a_rebuild_leaves_reads_and_appends_working_and_keeps_what_came_meanwhile(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    ada, bob = Person("Ada"), Person("Bob")
    await record(store, ada.hired(date(2020, 1, 6)))
    projector = Projector(engine, store, ALL)
    await projector.start()
    # Hold the swap back: the rebuild reads the log and writes its new tables, then waits
    # for the projector's lock (a catch-up in progress, say) before swapping them in.
    async with projector._lock:
        rebuilding = asyncio.create_task(projector.rebuild())
        next_people = sa.table("rm_people__next", sa.column("person_id"))
        for _ in range(1000):  # ten seconds at most: the rows are written before the swap
            async with engine.connect() as conn:
                try:
                    count = await conn.scalar(sa.select(sa.func.count()).select_from(next_people))
                except (sa.exc.OperationalError, sa.exc.ProgrammingError):  # not created yet
                    count = 0
            if count == 1 or rebuilding.done():
                break
            await asyncio.sleep(0.01)
        assert count == 1, "the rebuild did not write its new table before the swap"
        assert not rebuilding.done()
        await record(
            store, bob.hired(date(2021, 3, 1)), ada.promoted(date(2022, 1, 3), "apm", "pm")
        )
        served = await rows(engine, tables.people)
        assert [(r["name"], r["level"]) for r in served] == [("Ada", "apm")]
    position = await asyncio.wait_for(rebuilding, 30)
    assert position == await store.last_position()
    rebuilt = sorted((r["name"], r["level"]) for r in await rows(engine, tables.people))
    assert rebuilt == [("Ada", "pm"), ("Bob", "apm")]
    assert all(c.ok for c in await projector.check_consistency())


async def test_a_rebuild_catches_its_new_tables_up_before_the_swap_takes_the_lock(
    engine: AsyncEngine, store: SqlEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada, bob = Person("Ada"), Person("Bob")
    await record(store, ada.hired(date(2020, 1, 6)))
    projector = Projector(engine, store, ALL)
    await projector.start()
    indexing, go_on = asyncio.Event(), asyncio.Event()
    index_ahead = swap.index_ahead

    async def held_at_indexing(*args: object) -> None:
        indexing.set()
        await go_on.wait()
        await index_ahead(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(projector_module, "index_ahead", held_at_indexing)
    async with projector._lock:  # the swap cannot happen while the test holds this
        rebuilding = asyncio.create_task(projector.rebuild())
        await asyncio.wait_for(indexing.wait(), 30)
        await record(store, bob.hired(date(2021, 3, 1)))  # appended while it built
        go_on.set()
        next_people = sa.table("rm_people__next", sa.column("person_id"))
        for _ in range(1000):
            async with engine.connect() as conn:
                count = await conn.scalar(sa.select(sa.func.count()).select_from(next_people))
            if count == 2:
                break
            await asyncio.sleep(0.01)
        assert count == 2, "the new tables were not caught up before the swap"
        assert not rebuilding.done()
    await asyncio.wait_for(rebuilding, 30)
    assert sorted(str(r["name"]) for r in await rows(engine, tables.people)) == ["Ada", "Bob"]
    assert all(c.ok for c in await projector.check_consistency())


async def test_a_rebuild_leaves_no_set_aside_or_unswapped_table_behind(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    await record(store, Person("Ada").hired(date(2020, 1, 6)))
    projector = Projector(engine, store, ALL)
    await projector.start()
    await projector.rebuild()

    def names(sync_conn: sa.Connection) -> set[str]:
        return set(sa.inspect(sync_conn).get_table_names())

    async with engine.connect() as conn:
        present = await conn.run_sync(names)
    assert not {n for n in present if n.endswith(("__old", "__next"))}
    assert projector.last_swap is not None
    locked, committed = projector.last_swap
    assert 0 <= committed - locked < 5


async def test_consistency_check_flags_a_projection_behind_the_log(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    projector = Projector(engine, store, ALL)
    await projector.start()
    ada = Person("Ada")
    await record(store, ada.hired(date(2020, 1, 6)))
    behind = {c.name: c for c in await projector.check_consistency()}
    assert behind["people"].behind and not behind["people"].skipped
    assert behind["ladders"].ok
    await projector.catch_up()
    assert all(c.ok for c in await projector.check_consistency())


async def test_consistency_check_flags_a_projection_that_skipped_events(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    projector = Projector(engine, store, ALL)
    await projector.start()
    await record(store, Person("Ada").hired(date(2020, 1, 6)))
    async with engine.begin() as conn:  # as if a buggy runner moved on without applying
        await conn.execute(
            sa.update(tables.checkpoints)
            .where(tables.checkpoints.c.name == "timeline")
            .values(position=1)
        )
    report = {c.name: c for c in await projector.check_consistency()}
    assert report["timeline"].skipped and not report["timeline"].behind
    assert (report["timeline"].applied_count, report["timeline"].expected_count) == (0, 1)


async def test_two_projectors_catching_up_at_once_apply_each_event_once(
    db_url: str, engine: AsyncEngine, store: SqlEventStore
) -> None:
    first = Projector(engine, store, ALL)
    await first.start()
    await record(store, *(Person(f"P{i}").hired(date(2020, 1, 6)) for i in range(40)))
    other_engine = create_engine(db_url)  # a second process has its own pool
    try:
        second = Projector(other_engine, SqlEventStore(other_engine), ALL, batch_size=7)
        first.batch_size = 5
        await asyncio.gather(first.catch_up(), second.catch_up(), first.catch_up())
    finally:
        await other_engine.dispose()
    counts = {c.name: c.applied_count for c in await first.checkpoints()}
    assert (counts["people"], counts["timeline"]) == (40, 40)
    assert len(await rows(engine, tables.people)) == 40


async def test_a_new_projection_version_is_rebuilt_on_start(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    await record(store, Person("Ada").hired(date(2020, 1, 6)))
    await Projector(engine, store, ALL).start()
    async with engine.begin() as conn:  # as if the rows were built by an older version
        await conn.execute(sa.update(tables.people).values(name="stale"))
        await conn.execute(
            sa.update(tables.checkpoints)
            .where(tables.checkpoints.c.name == "people")
            .values(version=0)
        )
    await Projector(engine, store, ALL).start()
    [person] = await rows(engine, tables.people)
    assert person["name"] == "Ada"
    stored = {c.name: c.version for c in await Projector(engine, store, ALL).checkpoints()}
    assert stored["people"] == people.version


BUILT = (tables.people, tables.timeline, tables.mentorships, tables.rotations)


async def test_a_first_build_on_sqlite_fills_the_empty_tables_as_a_rebuild_would(
    engine: AsyncEngine, store: SqlEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A new database (or a projection added since): nothing was ever built, so the rows
    # go straight into the empty tables, without __next tables made and swapped in.
    if backend(engine) != "sqlite":
        pytest.skip("PostgreSQL builds into __next tables, indexed once after their rows")
    ada, bob = Person("Ada"), Person("Bob")
    await record(store, ada.hired(date(2020, 1, 6)), bob.hired(date(2021, 1, 4), prior_years=3))
    await record(store, *mentorship(ada, bob, date(2021, 3, 1)))
    await record(store, ada.promoted(date(2022, 1, 3), "apm", "pm"))
    made: list[str] = []

    async def recording(conn: AsyncConnection, p: Projection) -> sa.Table:
        made.append(p.name)
        return await swap.create_next(conn, p)

    monkeypatch.setattr(projector_module, "create_next", recording)
    projector = Projector(engine, store, ALL)
    await projector.start()
    assert made == []
    first = {t.name: await rows(engine, t) for t in BUILT}
    assert [r["name"] for r in first["rm_people"]] != []
    assert all(c.ok and c.position == 5 for c in await projector.check_consistency())
    await projector.rebuild()
    assert sorted(made) == sorted(p.name for p in ALL)
    assert {t.name: await rows(engine, t) for t in BUILT} == first


async def test_an_interrupted_first_build_is_built_again_beside_its_rows_and_swapped_in(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    ada = Person("Ada")
    await record(store, ada.hired(date(2020, 1, 6)), Person("Bob").hired(date(2021, 1, 4)))
    await Projector(engine, store, ALL).start()
    built = {t.name: await rows(engine, t) for t in BUILT}
    async with engine.begin() as conn:  # rows written, the checkpoints never were
        await conn.execute(sa.update(tables.people).values(name="half-built"))
        await conn.execute(sa.delete(tables.checkpoints))
    await record(store, ada.promoted(date(2022, 1, 3), "apm", "pm"))
    projector = Projector(engine, store, ALL)
    await projector.start()
    again = {t.name: await rows(engine, t) for t in BUILT}
    assert sorted(str(r["name"]) for r in again["rm_people"]) == ["Ada", "Bob"]
    assert len(again["rm_timeline"]) == len(built["rm_timeline"]) + 1
    assert all(c.ok and c.position == 3 for c in await projector.check_consistency())


async def test_processes_starting_at_once_on_postgres_rebuild_once_without_errors(
    db_url: str, engine: AsyncEngine, store: SqlEventStore
) -> None:
    if backend(engine) != "postgresql":
        pytest.skip("several processes share a database on PostgreSQL")
    await record(store, *(Person(f"P{i}").hired(date(2020, 1, 6)) for i in range(20)))
    engines = [create_engine(db_url) for _ in range(3)]
    try:
        starts = [Projector(e, SqlEventStore(e), ALL).start() for e in engines]
        await asyncio.gather(*starts)
    finally:
        for e in engines:
            await e.dispose()
    assert len(await rows(engine, tables.people)) == 20
    assert all(c.ok for c in await Projector(engine, store, ALL).check_consistency())


async def test_rebuilt_tables_carry_their_declared_indexes_and_can_be_rebuilt_again(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    await record(store, Person("Ada").hired(date(2020, 1, 6)))
    projector = Projector(engine, store, ALL)
    await projector.start()
    for _ in range(2):  # the second rebuild reuses the names the first one freed
        await projector.rebuild()

        def index_names(sync_conn: sa.Connection) -> dict[str, set[str]]:
            if sync_conn.dialect.name == "sqlite":  # reflection skips expression indexes
                listed = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"
                # SQLite cannot rename an index: a rebuild builds it ahead under its name or,
                # while the old table holds that, under the ``__next`` one (events.swap).
                return {
                    t.name: {
                        str(n).removesuffix("__next")
                        for n in sync_conn.execute(sa.text(listed), {"t": t.name}).scalars()
                        if not str(n).startswith("sqlite_autoindex")
                    }
                    for t in tables.METADATA.sorted_tables
                }
            inspector = sa.inspect(sync_conn)
            return {
                t.name: {str(ix["name"]) for ix in inspector.get_indexes(t.name)}
                for t in tables.METADATA.sorted_tables
            }

        async with engine.connect() as conn:
            present = await conn.run_sync(index_names)
        declared = {
            t.name: {str(ix.name) for ix in t.indexes} for t in tables.METADATA.sorted_tables
        }
        assert present == declared


async def test_a_rebuild_on_sqlite_writes_rows_only_into_tables_already_indexed(
    engine: AsyncEngine, store: SqlEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An index build over a big table is one long transaction that holds SQLite's one
    # writer: the new tables must have every index before their first row goes in.
    if backend(engine) != "sqlite":
        pytest.skip("PostgreSQL indexes once, after the rows (its builds hold no append)")
    await record(
        store, Person("Ada").hired(date(2020, 1, 6)), Person("Bob").hired(date(2021, 1, 4))
    )
    projector = Projector(engine, store, ALL)
    await projector.start()
    seen: dict[str, int] = {}
    flush = projector._flush

    async def counting_indexes(ws: object, target: sa.Table) -> None:
        async with engine.connect() as conn:
            found = await conn.execute(
                sa.text(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name = :t AND sql IS NOT NULL"
                ),
                {"t": target.name},
            )
            seen.setdefault(target.name, int(found.scalar_one()))
        await flush(ws, target)  # type: ignore[arg-type]

    monkeypatch.setattr(projector, "_flush", counting_indexes)
    await projector.rebuild(max_rows_in_memory=1)
    assert seen["rm_people__next"] == len(tables.people.indexes)
    assert seen["rm_timeline__next"] == len(tables.timeline.indexes)
    assert sorted(str(r["name"]) for r in await rows(engine, tables.people)) == ["Ada", "Bob"]
