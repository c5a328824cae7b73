"""The people read model: one row per person, derived with the domain's own fold.

The row keeps the person's events as recorded (``facts``: ``[type, data, event_id]``), so
a correction or a rescind, which can change the career from any earlier date on, is
handled by the domain exactly as the write side handles it: fold the events and derive
the career again. The columns are derived once per written row (``finish``), not after
every event, which keeps rebuilds linear.

The row reflects every recorded fact, future-dated ones included; ``latest_effective_on``
tells a query when a row must be re-derived from its facts for an earlier day
(``events.readmodels.queries`` does so).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from domain import events as ev
from domain.career import ACTIVE, Career
from domain.readiness import areas_developed
from domain.serialization import from_data
from domain.state import PersonState, fold
from events.projections.base import Envelope, Lookup, Projection, Row
from events.readmodels import tables

Fact = list[Any]
"""``[type, data, event_id]``: one event of the person's stream as recorded."""


def _key(env: Envelope) -> Sequence[Lookup]:
    return [("person_id", env.data["person_id"])]


def state_of(row: Row) -> PersonState:
    """The domain state of a people row: its events folded by the domain."""
    cached = row.get("_state")
    if isinstance(cached, PersonState):
        return cached
    decoded = row.get("_events")
    if decoded is not None:  # every fact's event, decoded once when it was applied
        return fold(decoded)
    return fold(from_data(t, data, UUID(eid)) for t, data, eid in row["facts"])


def _finish(row: Row) -> Row:
    state = state_of(row)
    return {
        **derive_columns(state.career, state),
        "person_id": row["person_id"],
        "facts": row["facts"],
        "last_position": row["last_position"],
        "_state": state,
    }


def _unless_none(value: object) -> str | None:
    return None if value is None else str(value)


def derive_columns(career: Career, state: PersonState) -> Row:
    """The people columns of a derived career (everything but id, facts and position)."""
    since = career.level_since
    periods = career.periods
    current = periods[-1] if periods else None
    # Experience = experience_years + (day - experience_since) while employed.
    if current is not None and current.end is None:
        experience_years = career.years_of_experience(current.start)
        experience_since: date | None = current.start
    else:  # departed (or never hired): every period is closed, experience is frozen
        experience_years = career.years_of_experience(date.max)
        experience_since = None
    rotation = career.current_rotation
    effective = [f.effective_on for f in state.facts.values()]
    return {
        "name": career.name,
        "email": career.email,
        "track": career.track,
        "level": career.level,
        "status": career.status,
        "manager_id": _unless_none(career.manager_id),
        "hired_on": career.hired_on or date.min,
        "departed_on": career.departed_on,
        "prior_years": career.prior_years,
        "experience_years": experience_years,
        "experience_since": experience_since,
        "level_since": since or date.min,
        "latest_effective_on": max(effective, default=date.min),
        "rotation_id": _unless_none(rotation.rotation_id if rotation else None),
        "rotation_team": rotation.host_team if rotation else None,
        "rotation_ends_on": rotation.planned_end_on if rotation else None,
        "erased": state.erased,
        "active_mentees": sum(
            1 for m in career.mentorships if m.active and m.mentor_id == state.person_id
        ),
        **readiness_flags(career),
    }


def readiness_flags(career: Career) -> dict[str, Any]:
    """Development done while at the current level: a mentorship taken part in (as mentor
    or mentee), a rotation completed, a leadership training completed, and the development
    areas of the trainings and rotations completed (``domain.readiness.areas_developed``)."""
    since = career.level_since
    if since is None or career.status != ACTIVE:
        return {
            "mentorship_done": False,
            "rotation_done": False,
            "training_done": False,
            "areas_done": [],
        }
    return {
        "areas_done": list(areas_developed(career, since)),
        "mentorship_done": any(
            m.ended_on is None or m.ended_on >= since for m in career.mentorships
        ),
        "rotation_done": any(
            r.ended_on is not None and r.ended_on >= since for r in career.rotations
        ),
        "training_done": any(t.completed_on >= since for t in career.trainings),
    }


people = Projection("people", version=5, table=tables.people, key=_key, finish=_finish)


@people.on(*ev.PERSON_EVENT_TYPES)
def recorded(row: Row | None, env: Envelope) -> Row:
    """Any event of a person's stream: keep it; the columns are derived at ``finish``."""
    fact: Fact = [env.type, env.data, env.id_text]
    new: Row = {
        "person_id": env.data["person_id"],
        "facts": [fact] if row is None else [*row["facts"], fact],
        "last_position": env.position,
    }
    # The decoded events ride along (the envelope decodes each once for every
    # projection), so ``finish`` folds them without decoding ``facts`` again; a row
    # loaded from the table has none, and ``state_of`` then decodes its facts.
    if row is None:
        new["_events"] = [env.event]
    elif (decoded := row.get("_events")) is not None:
        new["_events"] = [*decoded, env.event]
    return new
