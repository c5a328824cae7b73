"""The fast decoders of stored rows (``decode_rows``, the rebuild's ``decode_page``) give
what the plain reference decoder (``decode_row``) gives, for one recorded event of every
type the domain defines, as each backend's driver returns them."""

from __future__ import annotations

import dataclasses
import typing
from datetime import UTC, date, timedelta
from types import UnionType
from typing import Any
from uuid import UUID, uuid4

from domain.events import DomainEvent
from domain.ladder import default_ladder
from domain.serialization import EVENT_TYPES, stream_for
from events.bulk import decode_page
from events.port import ANY, Metadata, RecordedEvent, StreamAppend
from events.projections.base import Envelope
from events.rows import EVENT_COLUMNS, decode_row, decode_rows
from events.service import encode
from events.sql_store import SqlEventStore
from events.upcasting import UpcasterRegistry

META = Metadata(actor_id="hr-1", actor_role="hr", correlation_id="c-1")


def one_of(cls: type[DomainEvent]) -> DomainEvent:
    """An event of ``cls`` with a value of its declared type in every field."""
    values: dict[str, Any] = {}
    for name, hint in typing.get_type_hints(cls).items():
        if name == "event_id":
            continue
        if name == "ladder":
            values[name] = default_ladder().to_dict()
        else:
            values[name] = _value(hint, name)
    return cls(**values)


def _value(hint: Any, name: str) -> Any:
    if isinstance(hint, UnionType):  # ``X | None``: the X
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    origin = typing.get_origin(hint)
    if origin is tuple:
        return ("first", "second")
    if origin is dict:
        return {"title": "Zoë — ünïcode"}
    simple: dict[Any, Any] = {
        UUID: uuid4(),
        date: date(2026, 3, 2),
        str: f"{name}-1",
        bool: True,
        int: 3,
        float: 2.5,
    }
    return simple[hint]


async def _record_every_type(store: SqlEventStore) -> list[RecordedEvent]:
    recorded: list[RecordedEvent] = []
    for cls in EVENT_TYPES.values():
        event = one_of(cls)
        appended = await store.write(
            [StreamAppend(stream_for(event), [encode(event)], ANY)], metadata=META
        )
        recorded.extend(appended.events)
    return recorded


async def _stored_rows(store: SqlEventStore) -> list[Any]:
    def as_is(rows: list[Any]) -> list[Any]:
        return rows

    return await store.scan(0, 1000, as_is)


def _upcasters() -> UpcasterRegistry:
    registry = UpcasterRegistry()
    registry.add("PersonHired", 1, lambda data: {**data, "upcast": True})
    return registry


async def test_the_fast_decoder_equals_the_plain_one_on_every_event_type(
    store: SqlEventStore,
) -> None:
    written = await _record_every_type(store)
    rows = await _stored_rows(store)
    sqlite = store.engine.dialect.name == "sqlite"
    assert {r[4] for r in rows} == set(EVENT_TYPES)
    for upcasters in (UpcasterRegistry(), _upcasters()):
        fast = decode_rows(rows, upcasters, sqlite=sqlite)
        plain = [decode_row(r, upcasters, sqlite=sqlite) for r in rows]
        assert fast == plain
        for f, p in zip(fast, plain, strict=True):
            assert f.recorded_at.utcoffset() == p.recorded_at.utcoffset() == timedelta(0)
            for column in EVENT_COLUMNS:
                generic = typing.get_origin(column.decoded) is dict
                expected = dict if generic else column.decoded
                assert isinstance(getattr(f, column.name), expected), column.name
        assert len({id(e.metadata) for e in fast}) == len(fast)  # one dict each
    upcast = [e for e in decode_rows(rows, _upcasters(), sqlite=sqlite) if e.type == "PersonHired"]
    assert [(e.schema_version, e.data["upcast"]) for e in upcast] == [(2, True)]
    # Opened (personal data) as the store's reads open them, they are what the append wrote.
    plain = [decode_row(r, store.upcasters, sqlite=sqlite) for r in rows]
    assert store.sealer is not None
    await store.sealer.open(plain)
    assert plain == written == await store.read_all()


async def test_the_rebuild_decoder_gives_the_envelopes_of_the_plain_one(
    store: SqlEventStore,
) -> None:
    await _record_every_type(store)
    rows = await _stored_rows(store)
    sqlite = store.engine.dialect.name == "sqlite"
    page = decode_page(rows, set(EVENT_TYPES), store.upcasters, sqlite=sqlite)
    assert page is not None
    envelopes, last = page
    plain = [Envelope.of(decode_row(r, store.upcasters, sqlite=sqlite)) for r in rows]
    assert last == rows[-1][0]
    assert [_fields(e) for e in envelopes] == [_fields(e) for e in plain]


def _fields(e: Envelope) -> dict[str, Any]:
    return {
        "position": e.position,
        "stream": e.stream,
        "version": e.version,
        "recorded_at": e.recorded_at.astimezone(UTC),
        "actor_id": e.actor_id,
        "event_id": e.event_id,
        "id_text": e.id_text,
        "type": e.type,
        "data": e.data,
    }


def test_every_event_type_gets_an_example() -> None:
    for cls in EVENT_TYPES.values():
        event = one_of(cls)
        assert all(getattr(event, f.name) is not None for f in dataclasses.fields(event) if f.init)
