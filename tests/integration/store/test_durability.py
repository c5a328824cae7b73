"""Durability of SQLite commits: ``synchronous = FULL`` unless a bulk writer of sample data
(``ladder demo``) says commits need not wait for the disk."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from events.migrate import migrate
from events.port import NO_STREAM, NewEvent, StreamAppend
from events.sql_store import SqlEventStore, create_store


def _synchronous(store: SqlEventStore) -> int:
    writer = store._sqlite
    assert writer is not None
    return writer.synchronous


async def _note(store: SqlEventStore, stream: str) -> None:
    await store.write([StreamAppend(stream, [NewEvent("Noted", {}, event_id=uuid4())], NO_STREAM)])


async def test_sqlite_commits_wait_for_the_disk_until_told_not_to(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'durable.db'}"
    await migrate(url)
    store = await create_store(url, migrate=False)
    try:
        await _note(store, "note-1")
        assert _synchronous(store) == 2  # FULL
        store.commit_without_fsync()
        await _note(store, "note-2")
        assert _synchronous(store) == 1  # NORMAL: from the next batch on
        assert [e.stream for e in await store.read_all(0, 10)] == ["note-1", "note-2"]
    finally:
        await store.close()
