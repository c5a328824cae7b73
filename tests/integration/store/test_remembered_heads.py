"""Stores that remember their last heads stay correct when another writer moves them."""

from __future__ import annotations

from events.migrate import migrate
from events.port import ANY
from events.sql_store import create_store
from tests.integration.store.helpers import ev


async def test_two_stores_taking_turns_on_one_stream_keep_it_contiguous(db_url: str) -> None:
    await migrate(db_url)
    a = await create_store(db_url, migrate=False)
    b = await create_store(db_url, migrate=False)
    try:
        positions = []
        for i in range(6):
            store = a if i % 3 else b  # each store's remembered heads go stale in turn
            positions += await store.append("person-x", [ev(i=i)], ANY)
            positions += await store.append(f"person-{i % 2}", [ev(i=i)], ANY)
        assert positions == list(range(1, 13))
        events = await a.read_stream("person-x")
        assert [e.version for e in events] == [1, 2, 3, 4, 5, 6]
        assert [e.data["i"] for e in events] == list(range(6))
        assert (await b.verify()).ok
    finally:
        await a.close()
        await b.close()
