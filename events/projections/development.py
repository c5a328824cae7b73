"""Mentorships, rotations and published ladders: one row per mentorship, rotation, ladder.

Mentorship events are recorded in both people's streams; the two copies carry the same
``mentorship_id`` and land on the same row, the second copy changing nothing. Mentorship
events cannot be corrected (the domain ends them instead). Rotation facts can: a
correction or rescind names the start or the end event, found by its own lookup column.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from domain import events as ev
from events.projections.base import Envelope, Lookup, Projection, Row
from events.readmodels import tables


def _mentorship_key(env: Envelope) -> Sequence[Lookup]:
    return [("mentorship_id", env.data["mentorship_id"])]


mentorships = Projection("mentorships", version=2, table=tables.mentorships, key=_mentorship_key)


@mentorships.on(ev.MentorshipStarted)
def mentorship_started(row: Row | None, env: Envelope) -> Row | None:
    e = env.event
    if row is not None or not isinstance(e, ev.MentorshipStarted):
        return row
    return {
        "mentorship_id": str(e.mentorship_id),
        "mentor_id": str(e.mentor_id),
        "mentee_id": str(e.mentee_id),
        "goals": list(e.goals),
        "reverse": e.reverse,
        "started_on": e.effective_on,
        "ended_on": None,
        "outcome": None,
        "active": True,
        "position": env.position,
    }


@mentorships.on(ev.MentorshipEnded)
def mentorship_ended(row: Row | None, env: Envelope) -> Row | None:
    e = env.event
    if row is None or not row["active"] or not isinstance(e, ev.MentorshipEnded):
        return row
    return {**row, "ended_on": e.effective_on, "outcome": e.outcome, "active": False}


def _rotation_key(env: Envelope) -> Sequence[Lookup]:
    e = env.event
    if isinstance(e, ev.EventCorrected | ev.EventRescinded):
        target = str(e.target_event_id)
        return [("start_event_id", target), ("end_event_id", target)]
    return [("rotation_id", str(getattr(e, "rotation_id", "")))]


rotations = Projection(
    "rotations",
    version=1,
    table=tables.rotations,
    key=_rotation_key,
    lookups=("start_event_id", "end_event_id"),
)


@rotations.on(ev.RoleRotationStarted)
def rotation_started(row: Row | None, env: Envelope) -> Row | None:
    e = env.event
    if row is not None or not isinstance(e, ev.RoleRotationStarted):
        return row
    return {
        "rotation_id": str(e.rotation_id),
        "person_id": str(e.person_id),
        "host_team": e.host_team,
        "development_area": e.development_area,
        "started_on": e.effective_on,
        "planned_end_on": e.planned_end_on,
        "ended_on": None,
        "outcome": None,
        "active": True,
        "start_event_id": env.id_text,
        "end_event_id": None,
        "position": env.position,
    }


@rotations.on(ev.RoleRotationEnded)
def rotation_ended(row: Row | None, env: Envelope) -> Row | None:
    e = env.event
    if row is None or row["end_event_id"] is not None or not isinstance(e, ev.RoleRotationEnded):
        return row
    return {
        **row,
        "ended_on": e.effective_on,
        "outcome": e.outcome,
        "active": False,
        "end_event_id": env.id_text,
    }


_START_FIELDS = {
    "effective_on": "started_on",
    "host_team": "host_team",
    "development_area": "development_area",
    "planned_end_on": "planned_end_on",
}
_END_FIELDS = {"effective_on": "ended_on", "outcome": "outcome"}
_DATES = {"started_on", "planned_end_on", "ended_on"}


@rotations.on(ev.EventCorrected)
def rotation_corrected(row: Row | None, env: Envelope) -> Row | None:
    e = env.event
    if row is None or not isinstance(e, ev.EventCorrected):
        return row
    target = str(e.target_event_id)
    fields = _START_FIELDS if row["start_event_id"] == target else _END_FIELDS
    changed = dict(row)
    for name, value in e.changes.items():
        column = fields.get(name)
        if column is not None:
            changed[column] = date.fromisoformat(value) if column in _DATES else value
    return changed


@rotations.on(ev.EventRescinded)
def rotation_rescinded(row: Row | None, env: Envelope) -> Row | None:
    e = env.event
    if row is None or not isinstance(e, ev.EventRescinded):
        return row
    if row["start_event_id"] == str(e.target_event_id):
        return None  # the rotation never happened
    return {**row, "ended_on": None, "outcome": None, "active": True, "end_event_id": None}


def _ladder_key(env: Envelope) -> Sequence[Lookup]:
    e = env.event
    if isinstance(e, ev.LadderPublished):
        return [("ladder_key", f"{e.track}:{e.version}")]
    return []


ladders = Projection("ladders", version=2, table=tables.ladders, key=_ladder_key)


@ladders.on(ev.LadderPublished)
def ladder_published(row: Row | None, env: Envelope) -> Row | None:
    e = env.event
    if row is not None or not isinstance(e, ev.LadderPublished):
        return row
    return {
        "ladder_key": f"{e.track}:{e.version}",
        "track": e.track,
        "version": e.version,
        "effective_on": e.effective_on,
        "ladder": e.ladder,
        "position": env.position,
    }
