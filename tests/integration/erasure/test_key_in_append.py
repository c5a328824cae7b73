"""A new person's data key is stored with their hire (``events.sealing``): in the
append's own transaction on SQLite, never lost by an append that fails, and never two keys
for one person when another process made one first."""

from __future__ import annotations

from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from events.errors import WrongExpectedVersion
from events.port import ANY, NO_STREAM, Metadata, NewEvent
from events.sealing import Sealer
from events.sql_store import SqlEventStore

META = Metadata(actor_id="hr-1", actor_role="hr")


def _hire(pid: str, name: str) -> NewEvent:
    return NewEvent(
        "PersonHired",
        {"person_id": pid, "name": name, "email": f"{pid}@example.com", "track": "product",
         "level": "apm", "effective_on": "2024-01-02", "experience_exception": None},
    )  # fmt: skip


async def _read_fresh(engine: AsyncEngine, stream: str) -> list[dict[str, object]]:
    """The stream as another process reads it (keys from the table only)."""
    reader = SqlEventStore(engine)
    try:
        return [e.data for e in await reader.read_stream(stream)]
    finally:
        await reader.close()


async def test_a_hire_stores_its_new_key_and_another_process_opens_it(
    store: SqlEventStore, engine: AsyncEngine
) -> None:
    pid = str(uuid4())
    await store.append(f"person-{pid}", [_hire(pid, "Ottilie Marchbank")], ANY, metadata=META)
    (data,) = await _read_fresh(engine, f"person-{pid}")
    assert data["name"] == "Ottilie Marchbank"


async def test_a_hire_that_fails_keeps_its_key_for_the_next_append(
    store: SqlEventStore, engine: AsyncEngine
) -> None:
    pid = str(uuid4())
    stream = f"person-{pid}"
    other = str(uuid4())
    await store.append(stream, [_hire(other, "Someone Else")], ANY, metadata=META)
    with pytest.raises(WrongExpectedVersion):
        await store.append(stream, [_hire(pid, "Ottilie Marchbank")], NO_STREAM, metadata=META)
    await store.append(stream, [_hire(pid, "Ottilie Marchbank")], ANY, metadata=META)
    assert [d["name"] for d in await _read_fresh(engine, stream)] == [
        "Someone Else", "Ottilie Marchbank",
    ]  # fmt: skip


async def test_a_hire_uses_the_key_another_process_stored_first(
    store: SqlEventStore, engine: AsyncEngine
) -> None:
    pid = str(uuid4())
    assert store.sealer is not None
    # Another process makes the person's key between this one's sealing and its append.
    seal_with_keys = store.sealer.seal_with_keys
    raced = False

    async def racing(*args: object, **kwargs: bool) -> object:
        nonlocal raced
        result = await seal_with_keys(*args, **kwargs)  # type: ignore[arg-type]
        if not raced:
            raced = True
            await Sealer(engine)._load([pid], create=True)
        return result

    store.sealer.seal_with_keys = racing  # type: ignore[assignment,method-assign]
    await store.append(f"person-{pid}", [_hire(pid, "Ottilie Marchbank")], ANY, metadata=META)
    assert raced
    (data,) = await _read_fresh(engine, f"person-{pid}")
    assert data["name"] == "Ottilie Marchbank"
