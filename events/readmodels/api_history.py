"""Time travel and audit reads for the API, computed from the LOG, not from read models.

* ``CareerHistories(store).get(person_id, as_of=, known_at=)``: the career as effective
  on ``as_of`` and as the log knew it at ``known_at`` (events recorded later are ignored
  before the fold), with the standing facts it was derived from.
* ``audit_trail(store, person_id)``: every event of a person's stream with its hash chain,
  and the chain's verification.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain import events as ev
from domain.career import Career
from domain.serialization import person_stream, to_data
from events.port import RecordedEvent, VerifyResult
from events.sql_store import SqlEventStore
from events.timetravel import fold_recorded, known_by

PERSON_EVENT_TYPES = [t.__name__ for t in ev.PERSON_EVENT_TYPES]
_BATCH = 5000


@dataclass(frozen=True, slots=True)
class FactView:
    """One standing career fact as known then: corrections known then are applied."""

    event_id: str
    type: str
    effective_on: date
    position: int
    stream_version: int
    recorded_at: datetime
    actor_id: str | None
    data: dict[str, Any]
    original_data: dict[str, Any] | None
    """The data as first recorded when a correction changed it, else ``None``."""


@dataclass(frozen=True, slots=True)
class CareerHistoryView:
    """What the API's ``careerHistory`` shows: the career effective on ``as_of`` as the
    log knew it at ``known_at``, and the standing facts it was derived from."""

    person_id: str
    as_of: date | None
    known_at: datetime | None
    known_position: int
    """The last log position the view includes (0 when nothing was known)."""
    career: Career
    facts: tuple[FactView, ...]
    """Standing career facts and mentorship events effective by ``as_of``, in effective
    order (same-day ones in stream order)."""


def career_history(
    read: list[RecordedEvent], person_id: UUID, as_of: date | None, known_at: datetime | None
) -> CareerHistoryView | None:
    """The view of the person's stream ``read``; ``None`` when the log (as known at
    ``known_at``) has no hire for the person."""
    recorded = known_by(read, known_at)
    state = fold_recorded(recorded)
    career = state.view_on(as_of)
    if not career.exists:
        return None
    by_id = {r.event_id: r for r in recorded}
    # Career facts as they stand (corrected, rescinded ones dropped) and the starts and
    # ends of the mentorships this person took part in, as mentor or mentee (corrected).
    standing: list[ev.PersonEvent] = [fact for _, fact in state.effective_pairs()]
    for start, end in state.mentorship_facts.values():
        standing += [start] if end is None else [start, end]
    facts: list[FactView] = []
    for fact in standing:
        if as_of is not None and fact.effective_on > as_of:
            continue
        source = by_id[fact.event_id]
        data = to_data(fact)
        facts.append(
            FactView(
                event_id=str(fact.event_id),
                type=source.type,
                effective_on=fact.effective_on,
                position=source.position,
                stream_version=source.version,
                recorded_at=source.recorded_at,
                actor_id=source.metadata.get("actor_id"),
                data=data,
                original_data=None if data == source.data else source.data,
            )
        )
    # Stream order breaks ties between facts of one day, as the recorded order did.
    facts.sort(key=lambda f: (f.effective_on, f.stream_version))
    return CareerHistoryView(
        person_id=str(person_id),
        as_of=as_of,
        known_at=known_at,
        known_position=max((r.position for r in recorded), default=0),
        career=career,
        facts=tuple(facts),
    )


KEPT_HISTORIES = 2048
"""Views :class:`CareerHistories` keeps (the most recently read)."""


@dataclass(frozen=True, slots=True)
class _Kept:
    version: int
    erasures: int
    view: CareerHistoryView | None


class CareerHistories:
    """:func:`career_history` of a person's stream, keeping the last views computed: a view
    is a pure function of the stream (``as_of`` and ``known_at`` given), so it is served
    again while the stream's version is the same and this process learnt of no erasure meanwhile (an
    erasure elsewhere can make other people's streams read differently: a mentee's goals
    in their mentor's stream). One index lookup instead of reading, opening and folding."""

    def __init__(self, store: SqlEventStore, kept: int = KEPT_HISTORIES) -> None:
        self.store = store
        self.kept = kept
        self._views: OrderedDict[tuple[UUID, date | None, datetime | None], _Kept] = OrderedDict()

    async def get(
        self, person_id: UUID, *, as_of: date | None, known_at: datetime | None
    ) -> CareerHistoryView | None:
        store = self.store
        erasures = store.sealer.erasures if store.sealer is not None else 0
        key = (person_id, as_of, known_at)
        stream = person_stream(person_id)
        found = self._views.get(key)
        if (
            found is not None
            and found.erasures == erasures
            and await store.stream_version(stream) == found.version
        ):
            self._views.move_to_end(key)
            return found.view
        read = await store.read_stream(stream)
        view = career_history(read, person_id, as_of, known_at)
        self._views[key] = _Kept(read[-1].version if read else 0, erasures, view)
        self._views.move_to_end(key)
        if len(self._views) > self.kept:
            self._views.popitem(last=False)
        return view


@dataclass(frozen=True, slots=True)
class AuditTrail:
    person_id: str
    events: tuple[RecordedEvent, ...]
    verification: VerifyResult


async def audit_trail(store: SqlEventStore, person_id: UUID) -> AuditTrail | None:
    """``None`` when the person's stream does not exist."""
    stream = person_stream(person_id)
    recorded = await store.read_stream(stream)
    if not recorded:
        return None
    return AuditTrail(str(person_id), tuple(recorded), await store.verify(stream))
