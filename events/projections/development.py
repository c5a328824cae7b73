"""Mentorships, rotations and published ladders: one row per mentorship, rotation, ladder.

Mentorship events are recorded in both people's streams; the two copies carry the same
``mentorship_id`` and land on the same row, the second copy changing nothing. Mentorship
events cannot be corrected (the domain ends them instead). Rotation facts can: a
correction or rescind names the start or the end event, found by its own lookup column,
and the withdrawal of one names that event as ``fact_event_id``. A rotation row keeps its
recorded facts and fixes and is folded again by the domain after each, so every fix can
be withdrawn; a rescinded start leaves the row ``void`` (queries skip it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from domain import events as ev
from domain.serialization import from_data
from domain.state import fold
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


@mentorships.on(ev.MentorshipCorrected)
def mentorship_corrected(row: Row | None, env: Envelope) -> Row | None:
    """Both copies carry the same changes: the second sets what the first did."""
    e = env.event
    if row is None or not isinstance(e, ev.MentorshipCorrected):
        return row
    changed = dict(row)
    if "effective_on" in e.changes:
        day = date.fromisoformat(str(e.changes["effective_on"]))
        changed["started_on" if e.target_type == "MentorshipStarted" else "ended_on"] = day
    if "goals" in e.changes:
        changed["goals"] = list(e.changes["goals"])
    if "outcome" in e.changes:
        changed["outcome"] = e.changes["outcome"]
    return changed


def _rotation_key(env: Envelope) -> Sequence[Lookup]:
    e = env.event
    if isinstance(e, ev.EventRescinded) and e.fact_event_id is not None:
        fact = str(e.fact_event_id)  # a withdrawn fix: the row of the fact it fixed
        return [("start_event_id", fact), ("end_event_id", fact)]
    if isinstance(e, ev.EventCorrected | ev.EventRescinded):
        target = str(e.target_event_id)
        return [("start_event_id", target), ("end_event_id", target)]
    return [("rotation_id", str(getattr(e, "rotation_id", "")))]


rotations = Projection(
    "rotations",
    version=2,
    table=tables.rotations,
    key=_rotation_key,
    lookups=("start_event_id", "end_event_id"),
)


def _fact(env: Envelope) -> list[object]:
    return [env.type, env.data, env.id_text]


def _derive(row: Row) -> Row:
    """The row's columns folded again from its facts by the domain: corrections applied,
    withdrawn fixes left out, a rescinded start making the rotation void."""
    state = fold(from_data(t, data, UUID(eid)) for t, data, eid in row["facts"])
    start = state.facts.get(UUID(row["start_event_id"]))
    end_id = row["end_event_id"]
    end = state.facts.get(UUID(end_id)) if end_id is not None else None
    if not isinstance(start, ev.RoleRotationStarted):
        return {**row, "void": True}
    return _columns(row, start, end if isinstance(end, ev.RoleRotationEnded) else None)


def _columns(row: Row, start: ev.RoleRotationStarted, ended: ev.RoleRotationEnded | None) -> Row:
    """``row`` with the columns of its (effective) start and end."""
    return {
        **row,
        "host_team": start.host_team,
        "development_area": start.development_area,
        "started_on": start.effective_on,
        "planned_end_on": start.planned_end_on,
        "ended_on": ended.effective_on if ended else None,
        "outcome": ended.outcome if ended else None,
        "active": ended is None,
        "void": False,
    }


@rotations.on(ev.RoleRotationStarted)
def rotation_started(row: Row | None, env: Envelope) -> Row | None:
    e = env.event
    if row is not None or not isinstance(e, ev.RoleRotationStarted):
        return row
    # A start alone folds to itself: its columns come straight from it (as ``_derive``
    # would find them, without a fold per rotation during a rebuild).
    return _columns(
        {
            "rotation_id": str(e.rotation_id),
            "person_id": str(e.person_id),
            "start_event_id": env.id_text,
            "end_event_id": None,
            "position": env.position,
            "facts": [_fact(env)],
        },
        e,
        None,
    )


@rotations.on(ev.RoleRotationEnded)
def rotation_ended(row: Row | None, env: Envelope) -> Row | None:
    e = env.event
    if row is None or row["end_event_id"] is not None or not isinstance(e, ev.RoleRotationEnded):
        return row
    changed = {**row, "end_event_id": env.id_text, "facts": [*row["facts"], _fact(env)]}
    if len(row["facts"]) == 1 and str(e.person_id) == row["person_id"]:
        # An unfixed start and its end fold to themselves: the row holds the start's
        # columns already, the end's come from it (no fold, as for the start).
        return {**changed, "ended_on": e.effective_on, "outcome": e.outcome, "active": False}
    return _derive(changed)


@rotations.on(ev.EventCorrected, ev.EventRescinded)
def rotation_fixed(row: Row | None, env: Envelope) -> Row | None:
    """A correction or rescind of the start or the end, or the withdrawal of one."""
    if row is None or not isinstance(env.event, ev.EventCorrected | ev.EventRescinded):
        return row
    return _derive({**row, "facts": [*row["facts"], _fact(env)]})


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
