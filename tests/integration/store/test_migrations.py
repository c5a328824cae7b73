"""Migrations: a new database and one at an earlier revision both end at head."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from events.db import create_engine
from events.merkle import leaf_hash, root_of
from events.migrate import current_revision, head_revision, migrate
from events.port import NO_STREAM, Metadata
from events.sql_store import SqlEventStore, create_store
from tests.integration.store.helpers import entry_of, ev, legacy_append, raw_uuid


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_an_empty_database_migrates_to_head(db_url: str) -> None:
    await migrate(db_url)
    assert {"events", "idempotency_keys", "alembic_version"} <= await _tables(db_url)
    engine = create_engine(db_url)
    try:
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_migrating_twice_changes_nothing(db_url: str) -> None:
    await migrate(db_url)
    await migrate(db_url)
    store = await create_store(db_url)
    try:
        assert await store.append("person-a", [ev()], NO_STREAM) == [1]
    finally:
        await store.close()


async def test_a_database_at_the_first_revision_migrates_to_head(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await migrate(engine, "0001")
        assert await current_revision(engine) == "0001"
        await legacy_append(engine, "person-a", [ev(n=1)])  # revision 0001 has no key table
        assert "idempotency_keys" not in await _tables(db_url)

        await migrate(engine)

        assert await current_revision(engine) == head_revision()
        store = SqlEventStore(engine)
        key = Metadata(idempotency_key="k")
        assert await store.append("person-a", [ev(n=2)], 1, metadata=key) == [2]
        assert await store.append("person-a", [ev(n=2)], 1, metadata=key) == [2]
        assert [e.data for e in await store.read_stream("person-a")] == [{"n": 1}, {"n": 2}]
        assert (await store.verify()).ok
        await store.close()
        with pytest.raises(DBAPIError, match="APPEND_ONLY"):
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM events"))
    finally:
        await engine.dispose()


async def test_the_first_revision_allows_deletes_the_second_refuses_them(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await migrate(engine, "0001")
        await legacy_append(engine, "person-a", [ev()])
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM events"))
        await migrate(engine)
        store = SqlEventStore(engine)
        await store.append("person-a", [ev()], NO_STREAM)
        await store.close()
        with pytest.raises(DBAPIError):
            async with engine.begin() as conn:
                await conn.execute(
                    text("UPDATE events SET event_id = :e"), {"e": raw_uuid(store, ev().event_id)}
                )
    finally:
        await engine.dispose()


async def test_an_existing_log_gets_its_merkle_tree_when_migrated(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await migrate(engine, "0002")
        for n in range(13):
            await legacy_append(engine, f"person-{n % 3}", [ev(n=n), ev(n=n + 100)])

        await migrate(engine)

        store = SqlEventStore(engine)
        events = await store.read_all(limit=100)
        leaves = [leaf_hash(entry_of(e)) for e in events]
        assert len(leaves) == 26
        assert await store.tree_root() == (26, root_of(leaves))
        await store.append("person-9", [ev()], NO_STREAM)
        leaves.append(leaf_hash(entry_of((await store.read_all(26))[0])))
        assert await store.tree_root() == (27, root_of(leaves))
        await store.close()
    finally:
        await engine.dispose()
