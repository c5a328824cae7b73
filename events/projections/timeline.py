"""The career timeline: one row per career fact of a person, in effective order.

A correction rewrites the values of its target's row (keeping the data as first recorded
in ``original_data`` and every correction in ``corrections``) and marks it
``corrected_by``; a rescind marks it ``rescinded_by``. Corrections and rescinds are not
rows of their own: they are marks on the fact they fix. Mentorship events appear in both
people's timelines (each stream has its copy).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from domain import events as ev
from domain.serialization import from_data, to_data
from domain.state import apply_changes, correct_mentorship
from events.projections.base import Envelope, Lookup, Projection, Row
from events.readmodels import tables

FACT_TYPES = (*ev.CAREER_FACT_TYPES, ev.MentorshipStarted, ev.MentorshipEnded)


def _key(env: Envelope) -> Sequence[Lookup]:
    return [("event_id", env.id_text)]


def _target(env: Envelope) -> Sequence[Lookup]:
    event = env.event
    if isinstance(event, ev.EventRescinded) and event.fact_event_id is not None:
        return [("event_id", str(event.fact_event_id))]  # a withdrawn fix: its fact's row
    if isinstance(event, ev.EventCorrected | ev.EventRescinded | ev.MentorshipCorrected):
        return [("event_id", str(event.target_event_id))]
    return []


def values_of(data: dict[str, Any]) -> Row:
    """The timeline's searchable columns of one fact's data."""
    return {
        "effective_on": date.fromisoformat(data["effective_on"]),
        "track": data.get("to_track") or data.get("track"),
        "from_level": data.get("from_level"),
        "level": data.get("to_level") or data.get("level"),
        "experience_exception": data.get("experience_exception"),
        "data": data,
    }


timeline = Projection("timeline", version=2, table=tables.timeline, key=_key)


@timeline.on(*FACT_TYPES)
def fact(row: Row | None, env: Envelope) -> Row:
    if row is not None:  # the same event twice: nothing new
        return row
    return {
        "event_id": env.id_text,
        "person_id": env.data["person_id"],
        "position": env.position,
        "stream_version": env.version,
        "type": env.type,
        "recorded_at": env.recorded_at,
        "actor_id": env.actor_id,
        **values_of(env.data),
        "original_data": None,
        "corrections": [],
        "corrected_by": None,
        "corrected_position": None,
        "rescinded_by": None,
        "rescinded_position": None,
        "rescind_reason": None,
    }


@timeline.on(ev.EventCorrected, ev.MentorshipCorrected, key=_target)
def corrected(row: Row | None, env: Envelope) -> Row | None:
    event = env.event
    if row is None or not isinstance(event, ev.EventCorrected | ev.MentorshipCorrected):
        return row
    target = from_data(row["type"], row["data"], UUID(row["event_id"]))
    fixed: ev.DomainEvent | None
    if isinstance(target, ev.MentorshipStarted | ev.MentorshipEnded):
        fixed = correct_mentorship(target, event.changes)
    else:
        fixed = apply_changes(target, event.changes)  # type: ignore[arg-type]
    if fixed is None:  # the domain refuses such a correction; ignore it on replay too
        return row
    mark = {
        "event_id": env.id_text,
        "position": env.position,
        "recorded_at": env.recorded_at.isoformat(),
        "actor_id": env.actor_id,
        "reason": event.reason,
        "changes": event.changes,
    }
    return {
        **row,
        **values_of(to_data(fixed)),
        "original_data": row["original_data"] or row["data"],
        "corrections": [*row["corrections"], mark],
        "corrected_by": env.id_text,
        "corrected_position": env.position,
    }


@timeline.on(ev.EventRescinded, key=_target)
def rescinded(row: Row | None, env: Envelope) -> Row | None:
    event = env.event
    if row is None or not isinstance(event, ev.EventRescinded):
        return row
    if event.fact_event_id is not None:
        return _withdrawn(row, str(event.target_event_id), env.id_text)
    return {
        **row,
        "rescinded_by": env.id_text,
        "rescinded_position": env.position,
        "rescind_reason": event.reason,
    }


def _withdrawn(row: Row, fix_id: str, by: str) -> Row:
    """``row`` without the rescind or correction ``fix_id`` (withdrawn by ``by``)."""
    if row["rescinded_by"] == fix_id:  # the rescission is undone: the fact stands again
        return {**row, "rescinded_by": None, "rescinded_position": None, "rescind_reason": None}
    marks = [
        {**mark, "withdrawn_by": by} if mark["event_id"] == fix_id else mark
        for mark in row["corrections"]
    ]
    if marks == row["corrections"]:
        return row
    original = row["original_data"] or row["data"]
    standing = [mark for mark in marks if mark.get("withdrawn_by") is None]
    fixed = from_data(row["type"], original, UUID(row["event_id"]))
    for mark in standing:
        fixed = apply_changes(fixed, mark["changes"]) or fixed  # type: ignore[arg-type]
    last = standing[-1] if standing else None
    return {
        **row,
        **values_of(to_data(fixed)),
        "original_data": original if standing else None,
        "corrections": marks,
        "corrected_by": None if last is None else last["event_id"],
        "corrected_position": None if last is None else last["position"],
    }
