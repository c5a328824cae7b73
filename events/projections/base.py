"""What a projection is: pure handlers ``(row | None, envelope) -> row | None`` per event type.

Each projection owns one read-model table. A handler is registered for event types with a
key function naming the row(s) an event touches: ``(column, value)`` lookups on unique
columns of that table (the primary key or a declared ``lookups`` column). Rows are plain
dicts keyed by column name; keys starting with ``_`` are in-memory caches (derived from
the columns) that are never written.

``Workspace`` applies envelopes to rows in memory and tracks what changed; the projector
(``events.projector``) loads the rows a batch needs, applies, and writes the changes.
``replay`` runs a projection over envelopes entirely in memory (unit tests use it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy as sa

from domain.events import DomainEvent
from domain.serialization import TYPE_NAMES, from_data, to_data
from events.port import RecordedEvent
from events.rows import uuid_from_hex

Row = dict[str, Any]
Lookup = tuple[str, object]
"""``(column, value)``: the row of a projection's table whose unique ``column`` is ``value``."""


class Envelope:
    """An event with where and when the log recorded it; decoded only when asked.

    Most handlers work from ``data`` (the stored JSON) and never need the domain
    dataclass; ``event`` decodes it on first use. Treat an envelope as immutable.
    """

    __slots__ = (
        "_event",
        "_event_id",
        "_id_text",
        "actor_id",
        "data",
        "position",
        "recorded_at",
        "stream",
        "type",
        "version",
    )

    def __init__(
        self,
        *,
        position: int,
        stream: str,
        version: int,
        recorded_at: datetime,
        actor_id: str | None,
        event_id: UUID | None = None,
        id_text: str | None = None,
        type: str,
        data: dict[str, Any],
        event: DomainEvent | None = None,
    ) -> None:
        """Give ``event_id``, or its canonical text ``id_text`` (a rebuild reads ids as
        text and most handlers only ever want the text)."""
        if event_id is None and id_text is None:
            raise ValueError("an envelope needs event_id or id_text")
        self.position = position
        self.stream = stream
        self.version = version
        self.recorded_at = recorded_at
        self.actor_id = actor_id
        self._event_id = event_id
        self._id_text = id_text
        self.type = type
        """The event's stable type name (``PromotionRecorded``)."""
        self.data = data
        """The event's data as stored (JSON-ready, ids as strings)."""
        self._event = event

    @property
    def event_id(self) -> UUID:
        if self._event_id is None:
            self._event_id = uuid_from_hex(self.id_text.replace("-", ""))
        return self._event_id

    @property
    def id_text(self) -> str:
        """``str(event_id)``, formatted once: several projections key rows by it."""
        if self._id_text is None:
            self._id_text = str(self._event_id)
        return self._id_text

    @property
    def event(self) -> DomainEvent:
        """The domain event (decoded once, on first use)."""
        if self._event is None:
            self._event = from_data(self.type, self.data, self.event_id)
        return self._event

    @classmethod
    def of(cls, recorded: RecordedEvent) -> Envelope:
        return cls(
            position=recorded.position,
            stream=recorded.stream,
            version=recorded.version,
            recorded_at=recorded.recorded_at,
            actor_id=recorded.metadata.get("actor_id"),
            event_id=recorded.event_id,
            type=recorded.type,
            data=recorded.data,
        )

    @classmethod
    def wrap(
        cls,
        event: DomainEvent,
        *,
        position: int,
        stream: str,
        version: int,
        recorded_at: datetime,
        actor_id: str | None = None,
    ) -> Envelope:
        """An envelope for an event that has not been through the store (tests, tools)."""
        return cls(
            position=position,
            stream=stream,
            version=version,
            recorded_at=recorded_at,
            actor_id=actor_id,
            event_id=event.event_id,
            type=TYPE_NAMES[type(event)],
            data=to_data(event),
            event=event,
        )


Handler = Callable[[Row | None, Envelope], Row | None]
KeyFn = Callable[[Envelope], Sequence[Lookup]]
H = TypeVar("H", bound=Handler)


class Projection:
    """One read-model table kept by pure handlers registered per event type."""

    def __init__(
        self,
        name: str,
        version: int,
        table: sa.Table,
        key: KeyFn,
        lookups: Sequence[str] = (),
        finish: Callable[[Row], Row] | None = None,
    ) -> None:
        """``finish`` (optional) derives a row's columns from its ``_`` caches once, when the
        row is about to be written, instead of after every event."""
        pk = list(table.primary_key.columns)
        if len(pk) != 1:
            raise ValueError(f"read model {table.name} needs a single-column primary key")
        self.name = name
        self.version = version
        self.table = table
        self.pk: str = pk[0].name
        self.lookups: tuple[str, ...] = (self.pk, *lookups)
        self.secondary: tuple[str, ...] = tuple(lookups)
        self.columns: tuple[str, ...] = tuple(c.name for c in table.columns)
        self._default_key = key
        self.finish = finish
        self.handlers: dict[str, tuple[Handler, KeyFn]] = {}

    def on(self, *event_types: type[DomainEvent], key: KeyFn | None = None) -> Callable[[H], H]:
        """Register the decorated handler for ``event_types`` (with an optional key)."""

        def register(handler: H) -> H:
            for cls in event_types:
                self.handlers[TYPE_NAMES[cls]] = (handler, key or self._default_key)
            return handler

        return register

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(self.handlers)

    def handles(self, type_name: str) -> bool:
        return type_name in self.handlers

    def __repr__(self) -> str:
        return f"Projection({self.name!r}, version={self.version})"


class Workspace:
    """A projection's rows being worked on: applies events in memory, tracks what changed.

    ``complete`` says the workspace holds every row that exists (a rebuild that has not
    flushed yet, or a unit test), so a lookup it cannot resolve is known to be absent;
    otherwise missing lookups are loaded from the table first (``load``).
    """

    def __init__(self, projection: Projection, *, complete: bool) -> None:
        self.projection = projection
        self.complete = complete
        self.rows: dict[object, Row | None] = {}
        self.index: dict[str, dict[object, object]] = {c: {} for c in projection.lookups}
        self.probed: set[Lookup] = set()
        self.dirty: set[object] = set()
        self.applied = 0
        self.stored: dict[str, set[object]] | None = None
        """After a rebuild's workspace has written and forgotten its rows: every lookup
        value those rows had, per column. A lookup outside these sets was never in the
        table, so it is known absent without a query (``missing``)."""

    def missing(self, envelopes: Iterable[Envelope]) -> dict[str, set[object]]:
        """Lookups the events need that this workspace cannot answer yet."""
        wanted: dict[str, set[object]] = {}
        if self.complete:
            return wanted
        stored = self.stored
        for env in envelopes:
            entry = self.projection.handlers.get(env.type)
            if entry is None:
                continue
            for col, value in entry[1](env):
                if stored is not None and value not in stored[col]:
                    continue  # never written: absent, unless held (then not missing either)
                if value not in self.index[col] and (col, value) not in self.probed:
                    wanted.setdefault(col, set()).add(value)
        return wanted

    def stored_keys(self, keys: Iterable[object]) -> list[object]:
        """Those of ``keys`` (primary keys) whose rows may be in the table already."""
        if self.stored is None:
            return list(keys)
        written = self.stored[self.projection.pk]
        return [k for k in keys if k in written]

    def load(self, wanted: dict[str, set[object]], rows: Iterable[Row]) -> None:
        for col, values in wanted.items():
            self.probed.update((col, v) for v in values)
        for row in rows:
            pk = row[self.projection.pk]
            if pk not in self.rows:
                self.rows[pk] = row
                self._index(row, pk)

    def apply(self, env: Envelope) -> None:
        entry = self.projection.handlers.get(env.type)
        if entry is None:
            return
        handler, key = entry
        self.applied += 1
        for col, value in key(env):
            pk = self.index[col].get(value)
            row = self.rows.get(pk) if pk is not None else None
            new = handler(row, env)
            if new is row:
                continue
            if row is not None and new is not None and new[self.projection.pk] == pk:
                self._reindex(row, new, pk)  # the common case: the same row, changed
                self.rows[pk] = new
                self.dirty.add(pk)
                continue
            if row is not None and pk is not None:
                self._unindex(row, pk)
                self.rows[pk] = None
                self.dirty.add(pk)
            if new is not None:
                new_pk = new[self.projection.pk]
                self.rows[new_pk] = new
                self._index(new, new_pk)
                self.dirty.add(new_pk)

    def forget(self) -> None:
        """Drop the rows held (after writing them): from now on lookups go to the table.

        A workspace that held every row (a rebuild's) remembers the lookup values of what
        it wrote, so later lookups query the table only for rows that can be there."""
        if self.complete or self.stored is not None:
            stored = self.stored or {c: set() for c in self.projection.lookups}
            for col, values in self.index.items():  # the lookups of every live row held
                stored[col].update(values)
            self.stored = stored
        self.complete = False
        self.rows = {}
        self.index = {c: {} for c in self.projection.lookups}
        self.probed = set()
        self.dirty = set()

    def current(self) -> dict[object, Row]:
        """Every live row held, by primary key, with only the table's columns."""
        cols = self.projection.columns
        live = [
            (pk, self._finished(pk, row)) for pk, row in list(self.rows.items()) if row is not None
        ]
        return {pk: {c: done.get(c) for c in cols} for pk, done in live}

    def take_changes(self) -> tuple[list[object], list[Row]]:
        """(primary keys to delete first, rows to insert), then forget them as dirty."""
        cols = self.projection.columns
        keys = list(self.dirty)
        inserts: list[Row] = []
        for pk in keys:
            row = self.rows.get(pk)
            if row is None:
                continue
            if self.projection.finish is None:
                inserts.append(row)  # handlers build rows of exactly the table's columns
            else:
                done = self._finished(pk, row)
                inserts.append({c: done.get(c) for c in cols})
        self.dirty = set()
        return keys, inserts

    def _finished(self, pk: object, row: Row) -> Row:
        finish = self.projection.finish
        if finish is None:
            return row
        done = finish(row)
        self.rows[pk] = done
        return done

    def _index(self, row: Row, pk: object) -> None:
        for col in self.projection.lookups:
            value = row.get(col)
            if value is not None:
                self.index[col][value] = pk

    def _reindex(self, old: Row, new: Row, pk: object) -> None:
        for col in self.projection.secondary:
            before, after = old.get(col), new.get(col)
            if before != after:
                if before is not None and self.index[col].get(before) == pk:
                    del self.index[col][before]
                    self.probed.add((col, before))
                if after is not None:
                    self.index[col][after] = pk

    def _unindex(self, row: Row, pk: object) -> None:
        for col in self.projection.lookups:
            value = row.get(col)
            if value is not None and self.index[col].get(value) == pk:
                del self.index[col][value]
                # Known absent now; a later lookup must not reload the stale copy.
                self.probed.add((col, value))


def replay(projection: Projection, envelopes: Iterable[Envelope]) -> dict[object, Row]:
    """Apply ``envelopes`` from nothing, in memory: the projection's rows by primary key."""
    ws = Workspace(projection, complete=True)
    for env in envelopes:
        ws.apply(env)
    return ws.current()
