"""Interrupted transfers leave nothing behind: import rolls back, export leaves no file."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from events.db import create_engine
from events.migrate import migrate
from events.port import NewEvent
from events.sql_store import SqlEventStore
from events.transfer import BATCH, export_log, import_log


class Interrupted(KeyboardInterrupt):
    """What Ctrl-C raises, as a progress callback would see it."""


def _interrupt_after_first_batch(done: int, total: int) -> None:
    if done < total:
        raise Interrupted


async def _log_of(url: str, events: int) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
        store = SqlEventStore(engine)
        for start in range(0, events, 250):
            batch = [NewEvent("Noted", {"n": n}) for n in range(start, start + 250)]
            await store.append(f"note-{start % 7}", batch, "any")
    finally:
        await engine.dispose()


async def test_an_interrupted_import_writes_nothing(
    db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    await _log_of(db_url, 3 * BATCH)
    source = create_engine(db_url)
    target = create_engine(other_db_url)
    try:
        await export_log(source, tmp_path / "log.jsonl")
        await migrate(target)
        with pytest.raises(Interrupted):
            await import_log(target, tmp_path / "log.jsonl", progress=_interrupt_after_first_batch)
        async with target.connect() as conn:
            assert await conn.scalar(sa.text("SELECT count(*) FROM events")) == 0
    finally:
        await source.dispose()
        await target.dispose()


async def test_an_interrupted_export_leaves_no_file(db_url: str, tmp_path: Path) -> None:
    await _log_of(db_url, 6 * BATCH)
    engine = create_engine(db_url)
    try:
        with pytest.raises(Interrupted):
            await export_log(engine, tmp_path / "log.jsonl", progress=_interrupt_after_first_batch)
    finally:
        await engine.dispose()
    assert not any(p.suffix == ".jsonl" or "log.jsonl" in p.name for p in tmp_path.iterdir())
