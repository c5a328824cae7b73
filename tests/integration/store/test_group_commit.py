"""SQLite group commit: appends queued while the writer is busy share one transaction and
one fsync, yet each keeps its own expected-version check and fails alone."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import uuid4

from events.db import create_engine
from events.errors import WrongExpectedVersion
from events.migrate import migrate
from events.port import NO_STREAM, Metadata, NewEvent, StreamAppend
from events.sql_store import SqlEventStore


def event() -> NewEvent:
    return NewEvent("Noted", {"n": 1}, event_id=uuid4())


async def test_concurrent_appends_commit_together_and_a_conflict_fails_only_itself(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'group.db'}")
    await migrate(engine)
    store = SqlEventStore(engine)
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
        writer = store._sqlite
        assert writer is not None and writer.commits < 75  # some appends shared a commit
    finally:
        await store.close()
        await engine.dispose()
