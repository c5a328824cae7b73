"""Events to and from JSON-ready dicts.

``EVENT_TYPES`` maps the stable type name (the class name, stored in the log) to the
class; ``SCHEMA_VERSIONS`` gives the current schema version of each type (upcasters in
``events/`` lift older data to it before ``from_data`` sees it).

``from_data`` runs once per event on every rebuild, so each type's decoder and encoder is
generated once at import time from the dataclass's type hints: a single function with
one keyword per field and no per-call introspection or loops.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import date
from typing import Any
from uuid import UUID

from domain import case_events as cases
from domain import events as ev

EVENT_TYPES: dict[str, type[ev.DomainEvent]] = {
    cls.__name__: cls
    for cls in (
        *ev.PERSON_EVENT_TYPES,
        ev.LadderPublished,
        *cases.CASE_EVENT_TYPES,
        *cases.CYCLE_EVENT_TYPES,
    )
}
"""Stable type name -> event class. Names never change once events are recorded."""

SCHEMA_VERSIONS: dict[str, int] = dict.fromkeys(EVENT_TYPES, 1)
"""Stable type name -> current schema version of its data."""

TYPE_NAMES: dict[type[ev.DomainEvent], str] = {cls: name for name, cls in EVENT_TYPES.items()}

_Decoder = Callable[[Mapping[str, Any], UUID], ev.DomainEvent]
_Encoder = Callable[[ev.DomainEvent], dict[str, Any]]


_CACHE_LIMIT = 1 << 16
_people: dict[str, UUID] = {}
_days: dict[str, date] = {}
REPEATED_IDS = frozenset({"person_id", "mentor_id", "mentee_id", "manager_id"})
"""UUID fields whose values recur across many events: their parsing is memoised."""


def _person_uuid(text: str) -> UUID:
    """``UUID(text)``, memoised: a rebuild reads each person's id once per event."""
    found = _people.get(text)
    if found is None:
        if len(_people) >= _CACHE_LIMIT:
            _people.clear()
        found = _people[text] = UUID(text)
    return found


def _day(text: str) -> date:
    """``date.fromisoformat(text)``, memoised: effective dates recur a lot."""
    found = _days.get(text)
    if found is None:
        if len(_days) >= _CACHE_LIMIT:
            _days.clear()
        found = _days[text] = date.fromisoformat(text)
    return found


def _expressions(hint: object, value: str, name: str = "") -> tuple[str, str]:
    """(decode, encode) source expressions for one field whose value is ``value``."""
    optional = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        hint = args[0] if len(args) == 1 else Any
    origin = typing.get_origin(hint) or hint
    if origin is UUID:
        parse = "_person_uuid" if name in REPEATED_IDS else "_UUID"
        dec, enc = f"{parse}({value})", f"str({value})"
    elif origin is date:
        dec, enc = f"_date({value})", f"{value}.isoformat()"
    elif origin is float:
        dec, enc = f"float({value})", value
    elif origin is int:
        dec, enc = f"int({value})", value
    elif origin is tuple:
        dec, enc = f"tuple({value})", f"list({value})"
    elif origin is dict:
        dec, enc = f"dict({value})", f"dict({value})"
    else:  # str, bool, Any: JSON already
        return value, value
    if optional:
        return (
            f"(None if {value} is None else {dec})",
            f"(None if {value} is None else {enc})",
        )
    return dec, enc


def _build(cls: type[ev.DomainEvent]) -> tuple[_Decoder, _Encoder]:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in fields(cls) if f.name != "event_id"]
    namespace: dict[str, Any] = {
        "_cls": cls,
        "_new": object.__new__,
        "_UUID": UUID,
        "_person_uuid": _person_uuid,
        "_date": _day,
    }
    # Events are frozen slotted dataclasses without __post_init__: filling the slots
    # directly builds the same object as __init__ at about half the cost (no per-field
    # object.__setattr__ calls), which matters on million-event rebuilds.
    slotted = all(
        type(getattr(cls, name, None)).__name__ == "member_descriptor"
        for name in (*names, "event_id")
    ) and not hasattr(cls, "__post_init__")
    decode_lines: list[str] = ["def decode(d, event_id):"]
    decode_args: list[str] = []
    encode_items: list[str] = []
    late = [f.name for f in fields(cls) if f.name != "event_id" and f.default is None]
    for index, name in enumerate(names):
        # A field added later with a None default: older data has no key for it (None),
        # and a None value is left out, so data without it stays exactly as before.
        read = f"d.get({name!r})" if name in late else f"d[{name!r}]"
        dec, _ = _expressions(hints[name], read, name)
        _, enc = _expressions(hints[name], f"e.{name}")
        if name not in late:
            encode_items.append(f"{name!r}: {enc}")
        decode_args.append(f"{name}={dec}")
        if slotted:
            namespace[f"_set{index}"] = getattr(cls, name).__set__
            decode_lines.append(f"    _set{index}(o, {dec})")
    if slotted:
        namespace["_set_id"] = getattr(cls, "event_id").__set__  # noqa: B009
        decode_lines[1:1] = ["    o = _new(_cls)"]
        decode_lines += ["    _set_id(o, event_id)", "    return o"]
    else:
        decode_lines.append(f"    return _cls({', '.join(decode_args)}, event_id=event_id)")
    encode_lines = ["def encode(e):", f"    out = {{{', '.join(encode_items)}}}"]
    for name in late:
        _, enc = _expressions(hints[name], f"e.{name}")
        encode_lines += [f"    if e.{name} is not None:", f"        out[{name!r}] = {enc}"]
    source = "\n".join([*decode_lines, *encode_lines, "    return out", ""])
    # Generated once per event type at import, from our own dataclass fields only: this is
    # what keeps from_data free of per-call introspection.
    exec(compile(source, f"<serialization {cls.__name__}>", "exec"), namespace)  # noqa: S102
    return namespace["decode"], namespace["encode"]


_DECODERS: dict[str, _Decoder] = {}
_ENCODERS: dict[type[ev.DomainEvent], _Encoder] = {}
for _name, _cls in EVENT_TYPES.items():
    _DECODERS[_name], _ENCODERS[_cls] = _build(_cls)


def type_name(event: ev.DomainEvent) -> str:
    """The stable type name stored in the log for ``event``."""
    return TYPE_NAMES[type(event)]


def to_data(event: ev.DomainEvent) -> dict[str, Any]:
    """The JSON-ready data of ``event`` (ISO dates, str UUIDs, lists); excludes event_id."""
    return _ENCODERS[type(event)](event)


def from_data(type_name: str, data: Mapping[str, Any], event_id: UUID) -> ev.DomainEvent:
    """Rebuild an event from its stored type name, data and the store's event id.

    Raises ``KeyError`` for an unknown type name or a missing field and ``ValueError`` for
    a malformed value; data of an older schema must be upcast first.
    """
    try:
        decoder = _DECODERS[type_name]
    except KeyError:
        raise KeyError(f"unknown event type {type_name!r}") from None
    return decoder(data, event_id)


def stream_for(event: ev.DomainEvent) -> str:
    """The stream an event belongs to: ``person-<uuid>``, ``ladder-<track>``,
    ``promotioncase-<uuid>`` or ``promotioncycles-all``."""
    if isinstance(event, ev.LadderPublished):
        return f"ladder-{event.track}"
    if isinstance(event, cases.CASE_EVENT_TYPES):
        return cases.case_stream(event.case_id)
    if isinstance(event, cases.PromotionCycleOpened | cases.PromotionCycleClosed):
        return cases.CYCLES_STREAM
    return f"person-{event.person_id}"


def person_stream(person_id: UUID) -> str:
    return f"person-{person_id}"


def ladder_stream(track: str) -> str:
    return f"ladder-{track}"
