"""Copy a log written before sealing into a new, sealed log, and prove them equivalent.

A log recorded before ``events.sealing`` holds personal data in plaintext, and its hashes
and Merkle leaves cover that plaintext: it cannot be sealed in place (that is the
tampering the log exists to reveal). ``reseal`` appends every event again, in position
order, into an empty database through a sealing store: same event ids, streams, versions,
positions, types, schema versions, metadata and recorded times, appends grouped as they
were (events of one append share their metadata and time). ``compare`` then reads both
logs and checks each event is the same once opened.

What does not carry over: hashes and Merkle leaves (they now cover ciphertext), so
checkpoints and proofs signed for the old log do not verify against the new one -- sign
a new checkpoint of the new log, and keep the old log and its checkpoints (or destroy
them: they hold the plaintext) as your retention policy says. Idempotency keys are
recorded again with the new appends.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from sqlalchemy.ext.asyncio import AsyncEngine

from events.port import NO_STREAM, Metadata, NewEvent, RecordedEvent, StreamAppend
from events.sql_store import SqlEventStore

PAGE = 1000
_META_FIELDS = ("actor_id", "actor_role", "correlation_id", "causation_id", "idempotency_key")


@dataclass(frozen=True, slots=True)
class ResealReport:
    events: int
    appends: int


def _appends(events: Sequence[RecordedEvent]) -> Iterator[list[RecordedEvent]]:
    """Consecutive events written by one append (same recorded time and metadata; a
    stream seen again after another one starts a new append)."""
    for _, same in groupby(events, key=lambda e: (e.recorded_at, sorted(e.metadata.items()))):
        group: list[RecordedEvent] = []
        for e in same:
            if group and e.stream != group[-1].stream and any(g.stream == e.stream for g in group):
                yield group
                group = []
            group.append(e)
        yield group


async def reseal(source: SqlEventStore, engine: AsyncEngine) -> ResealReport:
    """Append ``source``'s events into the empty, migrated log on ``engine`` through a
    sealing store, as they were."""
    clock: list[datetime] = []
    # The store's clock reads the original time of the append being copied.
    target = SqlEventStore(engine, clock=lambda: clock[0])
    try:
        if await target.last_position() != 0:
            raise ValueError("reseal writes only into an empty log")
        return await _copy(source, target, clock)
    finally:
        await target.close()


async def _copy(
    source: SqlEventStore, target: SqlEventStore, clock: list[datetime]
) -> ResealReport:
    after, count, appends = 0, 0, 0
    pending: list[RecordedEvent] = []
    while True:
        page = await source.read_all(after, PAGE)
        pending.extend(page)
        groups = list(_appends(pending))
        # The last group may go on in the next page: keep it unless the log ended.
        done = len(page) < PAGE
        ready, pending = (groups, []) if done else (groups[:-1], groups[-1] if groups else [])
        for group in ready:
            clock[:] = [group[0].recorded_at]
            await target.write(_parts(group), metadata=_metadata(group[0]))
            for e in group:  # an erasure stays one: the copy seals nothing new for them
                if e.type == "PersonalDataErased" and target.sealer is not None:
                    await target.sealer.erase(str(e.data["person_id"]))
            count, appends = count + len(group), appends + 1
        if page:
            after = page[-1].position
        if done:
            return ResealReport(count, appends)


def _parts(group: list[RecordedEvent]) -> list[StreamAppend]:
    parts: list[StreamAppend] = []
    for stream, events in groupby(group, key=lambda e: e.stream):
        listed = list(events)
        first = listed[0].version
        parts.append(
            StreamAppend(
                stream,
                [NewEvent(e.type, e.data, e.schema_version, e.event_id) for e in listed],
                NO_STREAM if first == 1 else first - 1,
            )
        )
    return parts


def _metadata(event: RecordedEvent) -> Metadata:
    m = event.metadata
    return Metadata(**{k: m.get(k) for k in _META_FIELDS})


async def compare(a: SqlEventStore, b: SqlEventStore) -> str | None:
    """The first difference between two logs once opened (None: the same events)."""
    after = 0
    while True:
        left, right = await a.read_all(after, PAGE), await b.read_all(after, PAGE)
        for x, y in zip(left, right, strict=False):
            mine = (x.position, x.stream, x.version, x.event_id, x.type, x.schema_version)
            theirs = (y.position, y.stream, y.version, y.event_id, y.type, y.schema_version)
            if mine != theirs or x.data != y.data or x.metadata != y.metadata:
                return f"position {x.position}: the events differ"
            if x.recorded_at != y.recorded_at:
                return f"position {x.position}: recorded at {x.recorded_at}, not {y.recorded_at}"
        if len(left) != len(right):
            return f"one log ends after position {max(after, *(e.position for e in left + right))}"
        if not left:
            return None
        after = left[-1].position
