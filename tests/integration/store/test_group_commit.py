"""Group commit (SQLite's writer thread, PostgreSQL's batching appender): appends queued
while a batch commits share one transaction and one fsync, yet each keeps its own
expected-version check and fails alone."""

from __future__ import annotations

import asyncio
from uuid import uuid4

from events.errors import DuplicateEventId, WrongExpectedVersion
from events.migrate import migrate
from events.port import NO_STREAM, Metadata, NewEvent, StreamAppend
from events.sql_store import SqlEventStore, create_store


def event() -> NewEvent:
    return NewEvent("Noted", {"n": 1}, event_id=uuid4())


def commits(store: SqlEventStore) -> int:
    writer = store._sqlite
    return writer.commits if writer is not None else store._pg.commits


async def test_concurrent_appends_commit_together_and_a_conflict_fails_only_itself(
    db_url: str,
) -> None:
    await migrate(db_url)
    store = await create_store(db_url, migrate=False)
    try:
        distinct = [
            store.write([StreamAppend(f"note-{i}", [event()], NO_STREAM)]) for i in range(60)
        ]
        contested = [
            store.write([StreamAppend("note-contested", [event()], NO_STREAM)]) for _ in range(10)
        ]
        keyed = [
            store.write(
                [StreamAppend(f"note-keyed-{i}", [event()], NO_STREAM)],
                metadata=Metadata(idempotency_key="same-key"),
            )
            for i in range(5)
        ]
        results = await asyncio.gather(*distinct, *contested, *keyed, return_exceptions=True)
        written, conflicts = results[:60], results[60:70]
        assert all(not isinstance(r, BaseException) for r in written)
        assert sum(not isinstance(r, BaseException) for r in conflicts) == 1
        assert all(
            isinstance(r, WrongExpectedVersion) for r in conflicts if isinstance(r, BaseException)
        )
        replays = [r for r in results[70:] if not isinstance(r, BaseException)]
        assert sorted(r.replayed for r in replays) == [False, True, True, True, True]
        positions = [e.position for e in await store.read_all(0, 1000)]
        assert positions == list(range(1, 62 + 1))  # gap-free, in commit order
        assert (await store.verify()).ok
        assert commits(store) < 75  # some appends shared a commit
    finally:
        await store.close()


async def test_a_duplicate_event_id_fails_only_its_own_append_in_a_shared_commit(
    db_url: str,
) -> None:
    await migrate(db_url)
    store = await create_store(db_url, migrate=False)
    try:
        taken = event()
        await store.write([StreamAppend("note-first", [taken], NO_STREAM)])
        batch = [store.write([StreamAppend(f"note-{i}", [event()], NO_STREAM)]) for i in range(5)]
        again = store.write([StreamAppend("note-again", [taken], NO_STREAM)])
        results = await asyncio.gather(*batch, again, return_exceptions=True)
        assert all(not isinstance(r, BaseException) for r in results[:5])
        assert isinstance(results[5], DuplicateEventId)
        positions = [e.position for e in await store.read_all(0, 100)]
        assert positions == list(range(1, 7))
        assert (await store.verify()).ok
    finally:
        await store.close()
