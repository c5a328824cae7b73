"""Appending a history decided in memory (``domain.simulation.Simulator.groups``, e.g. the
sample org of ``ladder demo``) so that the log is the one the service would have written.

Each command's events are one append, with the command's own metadata (its idempotency
key) and the exact expected version of every stream it writes, as ``CareerService.execute``
appends them. The appends are queued together, so the store's group commit (the SQLite
writer thread, the PostgreSQL drainer) writes up to a few hundred of them per transaction,
each under its own savepoint, in queue order: positions, hash chains, Merkle nodes and
idempotency keys are exactly those of the same commands served one after another, at a
fraction of the cost. An interruption leaves whole commands only, and appending the same
history again (same event ids, same keys) writes only what is missing: the commands whose
key is known are replayed by the store, not written again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from domain.events import PersonEvent
from domain.serialization import stream_for
from events.port import NO_STREAM, Metadata, NewEvent, StreamAppend
from events.service import encode, refuse_unstorable
from events.sql_store import SqlEventStore

WINDOW = 4096
"""Appends queued at once (the store commits them a few hundred per transaction)."""

Progress = Callable[[int, int], None]


@dataclass
class HistoryAppended:
    commands: int = 0
    """Commands whose events this call wrote."""
    events: int = 0
    replayed: int = 0
    """Commands already in the log (their idempotency key was known): nothing written."""


def appends_of(groups: Sequence[Sequence[PersonEvent]]) -> list[list[StreamAppend]]:
    """Each command's append: its events by stream, each stream at the version the
    events before it left (``NO_STREAM`` for a new one), as the service appends them."""
    heights: dict[str, int] = {}
    out: list[list[StreamAppend]] = []
    for group in groups:
        parts: dict[str, list[NewEvent]] = {}
        for event in group:
            parts.setdefault(stream_for(event), []).append(encode(event))
        command: list[StreamAppend] = []
        for stream, events in parts.items():
            height = heights.get(stream, 0)
            command.append(StreamAppend(stream, events, NO_STREAM if height == 0 else height))
            heights[stream] = height + len(events)
        out.append(command)
    return out


async def append_history(
    store: SqlEventStore,
    groups: Sequence[Sequence[PersonEvent]],
    metadata: Callable[[int], Metadata],
    *,
    progress: Progress | None = None,
) -> HistoryAppended:
    """Append each group (a command's events) as one append with ``metadata(index)``.

    The history must start from streams that do not exist yet (or that earlier appends of
    the same history wrote). Raises what the store raises for the first append that
    fails (a ``WrongExpectedVersion`` if a stream moved meanwhile); the appends queued
    with it stand or fail each on its own, and appending the history again writes what
    is missing."""
    commands = appends_of(groups)
    for parts in commands:
        refuse_unstorable(parts)
    if store.sealer is not None:
        # Every person's data key made up front (one statement per few hundred people),
        # so queueing an append never waits on a key and the queue keeps the plan's order.
        await store.sealer.seal([p for parts in commands for p in parts if _hires(p)])
    done = HistoryAppended()
    total = len(commands)
    for start in range(0, total, WINDOW):
        window = commands[start : start + WINDOW]
        writes = [
            asyncio.ensure_future(store.write(parts, metadata=metadata(start + i)))
            for i, parts in enumerate(window)
        ]
        try:
            results = await asyncio.gather(*writes)
        except BaseException:
            for write in writes:
                write.cancel()
            raise
        for result in results:
            if result.replayed:
                done.replayed += 1
            else:
                done.commands += 1
                done.events += len(result.events)
        if progress is not None:
            progress(start + len(window), total)
    return done


def _hires(part: StreamAppend) -> bool:
    return any(e.type == "PersonHired" for e in part.events)
