"""The events row: its one column specification, building rows for an append, and
turning stored rows into ``RecordedEvent``s.

``EVENT_COLUMNS`` names the row once; the statements (``SELECT_EVENTS``,
``INSERT_EVENTS``, ``pg_binds``), the row tuples (``NewRow``, ``StoredRow``,
``RecordedEvent`` fields, in ``COLUMNS`` order) and the decoders derive from it. Pure
functions shared by the SQLite and PostgreSQL I/O paths.
"""

from __future__ import annotations

import gc
import json
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from typing import Any, Literal, NamedTuple
from uuid import UUID, SafeUUID

import orjson

from events.encoding import PlannedAppend
from events.errors import WrongExpectedVersion
from events.hashing import canonical, chain_hash
from events.port import ANY, NO_STREAM, ExpectedVersion, RecordedEvent
from events.upcasting import UpcasterRegistry


@dataclass(frozen=True, slots=True)
class EventColumn:
    """One column of the ``events`` table (``events.schema.EventRow`` declares its DDL)."""

    name: str
    """The column's name, and the field's in ``NewRow``, ``StoredRow``, ``RecordedEvent``."""
    pg_type: str
    """What a bound value is cast to on PostgreSQL (``$n::pg_type``, ``$n::pg_type[]``)."""
    stored: Any
    """Its Python type as written and verified (``NewRow``, ``StoredRow``)."""
    decoded: Any
    """Its Python type once read (``RecordedEvent``)."""
    sqlite: Literal["as is", "hex", "naive UTC text"] = "as is"
    """How SQLite's driver gives it back: as stored, as 32 ``hex`` digits (a UUID), or as
    ``naive UTC text`` (a time)."""
    entry: bool = True
    """Part of the event's Merkle entry (``events.tree.row_entry``): all but the hashes."""


EVENT_COLUMNS: tuple[EventColumn, ...] = (
    EventColumn("position", "bigint", int, int),
    EventColumn("stream", "text", str, str),
    EventColumn("version", "bigint", int, int),
    EventColumn("event_id", "uuid", UUID, UUID, sqlite="hex"),
    EventColumn("type", "text", str, str),
    EventColumn("schema_version", "integer", int, int),
    EventColumn("data", "text", str, dict[str, Any]),  # JSON text, verbatim
    EventColumn("metadata", "text", str, dict[str, Any]),  # JSON text, verbatim
    EventColumn("recorded_at", "timestamptz", datetime, datetime, sqlite="naive UTC text"),
    EventColumn("hash", "text", str, str, entry=False),
    EventColumn("prev_hash", "text", str | None, str | None, entry=False),
)

COLUMNS: tuple[str, ...] = tuple(c.name for c in EVENT_COLUMNS)
"""The column names in row tuple order."""
ENTRY_COLUMNS: tuple[str, ...] = tuple(c.name for c in EVENT_COLUMNS if c.entry)
"""The leading columns a Merkle entry covers (``row[: len(ENTRY_COLUMNS)]``)."""

# Each column's index in a row tuple.
POSITION = COLUMNS.index("position")
STREAM = COLUMNS.index("stream")
VERSION = COLUMNS.index("version")
EVENT_ID = COLUMNS.index("event_id")
TYPE = COLUMNS.index("type")
SCHEMA_VERSION = COLUMNS.index("schema_version")
DATA = COLUMNS.index("data")
METADATA = COLUMNS.index("metadata")
RECORDED_AT = COLUMNS.index("recorded_at")
HASH = COLUMNS.index("hash")
PREV_HASH = COLUMNS.index("prev_hash")

COLUMN_LIST = ", ".join(COLUMNS)
SELECT_EVENTS = f"SELECT {COLUMN_LIST} FROM events"  # noqa: S608 (constant names)
INSERT_EVENTS = f"INSERT INTO events ({COLUMN_LIST})"
SQLITE_BINDS = ", ".join("?" for _ in COLUMNS)
"""``INSERT_EVENTS`` + ``VALUES (SQLITE_BINDS)``: one row's parameters."""


def pg_binds(*, arrays: bool) -> str:
    """``$1::bigint, $2::text, ...``: one row's parameters cast to the column types, or
    with ``arrays`` one array per column (``unnest(...)``)."""
    suffix = "[]" if arrays else ""
    return ", ".join(f"${i}::{c.pg_type}{suffix}" for i, c in enumerate(EVENT_COLUMNS, 1))


@dataclass(frozen=True, slots=True)
class EventReadSql:
    """A backend's read statements (parameters in order)."""

    read_stream: str  # stream, from_version, to_version
    read_all: str  # after_position, limit
    read_all_types: str  # after_position, types, limit


class NewRow(NamedTuple):
    """An events row about to be inserted, with its data still as JSON text.

    A named tuple, not a frozen dataclass: a large append builds one per event, and
    the asyncpg path passes it to the driver as is. Its fields are ``EVENT_COLUMNS``
    with their ``stored`` types, in order.
    """

    position: int
    stream: str
    version: int
    event_id: UUID
    type: str
    schema_version: int
    data: str
    metadata: str
    recorded_at: datetime
    hash: str
    prev_hash: str | None

    def recorded(self) -> RecordedEvent:
        """The event as a read gives it back (data and metadata decoded)."""
        values = list(self)
        values[DATA] = orjson.loads(self.data)
        values[METADATA] = orjson.loads(self.metadata)
        e: RecordedEvent = _new_object(_R)
        for setter, value in zip(_SETTERS, values, strict=True):
            setter(e, value)
        return e


def check_expected(stream: str, expected: ExpectedVersion, actual: int) -> None:
    if expected == ANY:
        return
    if (expected == NO_STREAM and actual != 0) or (expected != NO_STREAM and expected != actual):
        raise WrongExpectedVersion(stream, expected, actual)


def build_rows(
    plans: Sequence[PlannedAppend],
    heads: Sequence[tuple[int, str | None]],
    last_position: int,
    recorded_at: datetime,
    meta: dict[str, str],
    meta_json: str,
) -> list[NewRow]:
    """Rows for ``plans`` given each stream's head ``(version, hash)`` and the log's head.

    Raises ``WrongExpectedVersion`` before anything is written.
    """
    for plan, (version, _) in zip(plans, heads, strict=True):
        check_expected(plan.stream, plan.expected_version, version)
    rows: list[NewRow] = []
    position = last_position
    for plan, (version, prev_hash) in zip(plans, heads, strict=True):
        for e in plan.events:
            position += 1
            version += 1
            ev = e.event
            digest = chain_hash(
                prev_hash,
                canonical(
                    stream=plan.stream,
                    version=version,
                    type=ev.type,
                    schema_version=ev.schema_version,
                    data=e.data,
                    metadata=meta,
                    recorded_at=recorded_at,
                ),
            )
            rows.append(
                NewRow(
                    position,
                    plan.stream,
                    version,
                    ev.event_id,
                    ev.type,
                    ev.schema_version,
                    e.data_json,
                    meta_json,
                    recorded_at,
                    digest,
                    prev_hash,
                )
            )
            prev_hash = digest
    return rows


def next_recorded_at(now: datetime, last: datetime | None) -> datetime:
    """The store's clock for the log never runs backwards."""
    return now if last is None or now >= last else last


_new_object = object.__new__
_set_attribute = object.__setattr__


def uuid_from_hex(value: str) -> UUID:
    """``UUID(hex=value)`` without its argument parsing (hot path of SQLite reads)."""
    u: UUID = _new_object(UUID)
    _set_attribute(u, "int", int(value, 16))
    _set_attribute(u, "is_safe", SafeUUID.unknown)
    return u


_R = RecordedEvent
# Each field's slot descriptor setter, in ``COLUMNS`` order: a ``RecordedEvent`` built
# without the frozen dataclass ``__init__``'s per-field lookups (a third of the decoding
# cost on the read hot path); the result equals one built the usual way.
_SETTERS: tuple[Callable[[RecordedEvent, Any], None], ...] = tuple(
    getattr(_R, name).__set__ for name in COLUMNS
)


def decode_rows(
    rows: Sequence[Sequence[Any]], upcasters: UpcasterRegistry, *, sqlite: bool
) -> list[RecordedEvent]:
    """Decode a page of rows; see ``_decode``.

    A page allocates several objects per row, all of them kept, so the cyclic garbage
    collector would run repeatedly and find nothing; it is paused for large pages
    (the loop never yields to the event loop, so no other coroutine runs meanwhile).
    """
    if not rows:
        return []
    if len(rows) < _GC_PAUSE_ROWS or not gc.isenabled():
        return _decode(rows, upcasters, sqlite)
    gc.disable()
    try:
        return _decode(rows, upcasters, sqlite)
    finally:
        gc.enable()


_GC_PAUSE_ROWS = 256


class Memo(dict[str, Any]):
    """``memo[text]`` decodes ``text`` once per page (rows of one append share it)."""

    __slots__ = ("_parse",)

    def __init__(self, parse: Callable[[str], Any]) -> None:
        super().__init__()
        self._parse = parse

    def __missing__(self, text: str) -> Any:
        value = self[text] = self._parse(text)
        return value


def sqlite_time(text: str) -> datetime:
    """``recorded_at`` as SQLite stores it (naive UTC text) to an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


_set_uuid_int = getattr(UUID, "int").__set__  # noqa: B009
_set_uuid_safe = getattr(UUID, "is_safe").__set__  # noqa: B009


def _uuids_from_hex(values: Sequence[str]) -> list[UUID]:
    """``[UUID(hex=v) for v in values]``, column at a time (C loops, no bytecode per row)."""
    n = len(values)
    out: list[UUID] = list(map(_new_object, repeat(UUID, n)))
    _consume(map(_set_uuid_int, out, map(int, values, repeat(16, n))))
    _consume(map(_set_uuid_safe, out, repeat(SafeUUID.unknown, n)))
    return out


_consume = deque[Any](maxlen=0).extend


def _decode(
    rows: Sequence[Sequence[Any]], upcasters: UpcasterRegistry, sqlite: bool
) -> list[RecordedEvent]:
    """Stored rows (``COLUMNS`` order, driver values) to ``RecordedEvent``s, upcast.

    SQLite gives the event id as 32 hex digits and ``recorded_at`` as naive UTC text;
    asyncpg gives a ``UUID`` and an aware ``datetime``. The page is decoded a column
    at a time with ``map`` (the per-row work runs in C: a third of the cost of a
    Python loop over rows). Events of one append share their metadata and timestamp
    text, decoded once per page; each event gets its own copy of the metadata dict.
    ``decode_row`` is the plain equivalent.
    """
    n = len(rows)
    columns: list[Any] = list(zip(*rows, strict=True))  # tuples, then iterables
    if sqlite:
        columns[EVENT_ID] = _uuids_from_hex(columns[EVENT_ID])
        columns[RECORDED_AT] = map(Memo(sqlite_time).__getitem__, columns[RECORDED_AT])
    payloads: Iterable[Any] = map(orjson.loads, columns[DATA])
    if upcasters:
        columns[SCHEMA_VERSION], payloads = _upcast(
            upcasters,
            columns[TYPE],
            columns[SCHEMA_VERSION],
            payloads,
        )
    columns[DATA] = payloads
    columns[METADATA] = map(dict.copy, map(Memo(orjson.loads).__getitem__, columns[METADATA]))
    out: list[RecordedEvent] = list(map(_new_object, repeat(_R, n)))
    for setter, column in zip(_SETTERS, columns, strict=True):
        _consume(map(setter, out, column))
    return out


def decode_row(row: Sequence[Any], upcasters: UpcasterRegistry, *, sqlite: bool) -> RecordedEvent:
    """One stored row to its ``RecordedEvent``, plainly, each column as ``EVENT_COLUMNS``
    describes it: the reference that ``decode_rows`` (the fast path) is proven equal to,
    on every event type, on both backends."""
    values: dict[str, Any] = {}
    for column, value in zip(EVENT_COLUMNS, row, strict=True):
        if sqlite and column.sqlite == "hex":
            value = UUID(hex=value)
        elif sqlite and column.sqlite == "naive UTC text":
            value = datetime.fromisoformat(value).replace(tzinfo=UTC)
        if column.decoded == dict[str, Any]:  # stored as JSON text
            value = json.loads(value)
        values[column.name] = value
    values["schema_version"], values["data"] = upcasters.upcast(
        values["type"], values["schema_version"], values["data"]
    )
    return RecordedEvent(**values)


def _upcast(
    upcasters: UpcasterRegistry,
    types: Sequence[str],
    versions: Sequence[int],
    payloads: Iterable[dict[str, Any]],
) -> tuple[list[int], list[dict[str, Any]]]:
    upcast = upcasters.upcast
    out_versions: list[int] = []
    out_payloads: list[dict[str, Any]] = []
    for type_, sv, payload in zip(types, versions, payloads, strict=True):
        sv, payload = upcast(type_, sv, payload)
        out_versions.append(sv)
        out_payloads.append(payload)
    return out_versions, out_payloads
