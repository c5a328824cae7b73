"""Read-model queries for the API's relations: mentorships, rotations, career timelines.

Like ``api_queries``: one SQL statement per batch of keys, frozen dataclasses out, keyset
pages (the caller passes the sort key of the last row it saw).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from events.readmodels import tables
from events.readmodels.api_queries import fetch, keys_of, utc

TL = tables.timeline
M = tables.mentorships
R = tables.rotations

# -- mentorships ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MentorshipRow:
    mentorship_id: str
    mentor_id: str
    mentee_id: str
    goals: tuple[str, ...]
    reverse: bool
    started_on: date
    ended_on: date | None
    outcome: str | None
    active: bool
    position: int


_MENTORSHIP_COLUMNS = (
    M.c.mentorship_id,
    M.c.mentor_id,
    M.c.mentee_id,
    M.c.goals,
    M.c.reverse,
    M.c.started_on,
    M.c.ended_on,
    M.c.outcome,
    M.c.active,
    M.c.position,
)


def _mentorship(r: sa.Row[Any]) -> MentorshipRow:
    values = dict(r._mapping)
    values["goals"] = tuple(values["goals"] or ())
    return MentorshipRow(**values)


async def active_mentorships_by_mentor(
    engine: AsyncEngine, mentor_ids: Sequence[str]
) -> dict[str, list[MentorshipRow]]:
    """Mentor id -> their active mentorships, oldest first."""
    return await _active_mentorships(engine, M.c.mentor_id, mentor_ids)


async def active_mentorships_by_mentee(
    engine: AsyncEngine, mentee_ids: Sequence[str]
) -> dict[str, list[MentorshipRow]]:
    """Mentee id -> their active mentorships (as mentee), oldest first."""
    return await _active_mentorships(engine, M.c.mentee_id, mentee_ids)


async def _active_mentorships(
    engine: AsyncEngine, column: sa.Column[Any], ids: Sequence[str]
) -> dict[str, list[MentorshipRow]]:
    keys = keys_of(ids)
    found: dict[str, list[MentorshipRow]] = {k: [] for k in keys}
    if not keys:
        return found
    q = (
        sa.select(*_MENTORSHIP_COLUMNS)
        .where(column.in_(keys), M.c.active.is_(True))
        .order_by(M.c.started_on, M.c.mentorship_id)
    )
    for r in await fetch(engine, q):
        row = _mentorship(r)
        found[getattr(row, column.name)].append(row)
    return found


async def mentorships_by_ids(
    engine: AsyncEngine, mentorship_ids: Sequence[str]
) -> dict[str, MentorshipRow]:
    keys = keys_of(mentorship_ids)
    if not keys:
        return {}
    q = sa.select(*_MENTORSHIP_COLUMNS).where(M.c.mentorship_id.in_(keys))
    return {r.mentorship_id: _mentorship(r) for r in await fetch(engine, q)}


@dataclass(frozen=True, slots=True)
class MentorshipFilter:
    mentor_id: str | None = None
    mentee_id: str | None = None
    active: bool | None = None
    visible_to: frozenset[str] | None = None
    """Only mentorships where the mentor or the mentee is one of these; ``None``: all."""


async def list_mentorships(
    engine: AsyncEngine,
    filters: MentorshipFilter,
    *,
    limit: int,
    after: tuple[date, str] | None = None,
) -> list[MentorshipRow]:
    """Mentorships ordered by ``(started_on, mentorship_id)``, after ``after``."""
    q = sa.select(*_MENTORSHIP_COLUMNS)
    if filters.mentor_id is not None:
        q = q.where(M.c.mentor_id == filters.mentor_id)
    if filters.mentee_id is not None:
        q = q.where(M.c.mentee_id == filters.mentee_id)
    if filters.active is not None:
        q = q.where(M.c.active.is_(filters.active))
    if filters.visible_to is not None:
        ids = sorted(filters.visible_to)
        q = q.where(sa.or_(M.c.mentor_id.in_(ids), M.c.mentee_id.in_(ids)))
    if after is not None:
        q = q.where(sa.tuple_(M.c.started_on, M.c.mentorship_id) > sa.tuple_(*after))
    q = q.order_by(M.c.started_on, M.c.mentorship_id).limit(limit)
    return [_mentorship(r) for r in await fetch(engine, q)]


# -- rotations --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RotationRow:
    rotation_id: str
    person_id: str
    host_team: str
    development_area: str
    started_on: date
    planned_end_on: date
    ended_on: date | None
    outcome: str | None
    active: bool
    position: int


_ROTATION_COLUMNS = (
    R.c.rotation_id,
    R.c.person_id,
    R.c.host_team,
    R.c.development_area,
    R.c.started_on,
    R.c.planned_end_on,
    R.c.ended_on,
    R.c.outcome,
    R.c.active,
    R.c.position,
)


def _rotation(r: sa.Row[Any]) -> RotationRow:
    return RotationRow(**r._mapping)


async def active_rotations(
    engine: AsyncEngine, person_ids: Sequence[str]
) -> dict[str, RotationRow]:
    """Person id -> their active rotation (people without one are absent)."""
    keys = keys_of(person_ids)
    if not keys:
        return {}
    q = (
        sa.select(*_ROTATION_COLUMNS)
        .where(R.c.person_id.in_(keys), R.c.active.is_(True))
        .order_by(R.c.started_on)
    )
    return {r.person_id: _rotation(r) for r in await fetch(engine, q)}


async def rotations_by_ids(
    engine: AsyncEngine, rotation_ids: Sequence[str]
) -> dict[str, RotationRow]:
    keys = keys_of(rotation_ids)
    if not keys:
        return {}
    q = sa.select(*_ROTATION_COLUMNS).where(R.c.rotation_id.in_(keys))
    return {r.rotation_id: _rotation(r) for r in await fetch(engine, q)}


@dataclass(frozen=True, slots=True)
class RotationFilter:
    person_id: str | None = None
    active: bool | None = None
    ending_by: date | None = None
    """Only active rotations planned to end on or before this day."""
    visible_to: frozenset[str] | None = None


async def list_rotations(
    engine: AsyncEngine,
    filters: RotationFilter,
    *,
    limit: int,
    after: tuple[date, str] | None = None,
) -> list[RotationRow]:
    """Rotations ordered by ``(started_on, rotation_id)``, after ``after``."""
    q = sa.select(*_ROTATION_COLUMNS)
    if filters.person_id is not None:
        q = q.where(R.c.person_id == filters.person_id)
    if filters.active is not None:
        q = q.where(R.c.active.is_(filters.active))
    if filters.ending_by is not None:
        q = q.where(R.c.active.is_(True), R.c.planned_end_on <= filters.ending_by)
    if filters.visible_to is not None:
        q = q.where(R.c.person_id.in_(sorted(filters.visible_to)))
    if after is not None:
        q = q.where(sa.tuple_(R.c.started_on, R.c.rotation_id) > sa.tuple_(*after))
    q = q.order_by(R.c.started_on, R.c.rotation_id).limit(limit)
    return [_rotation(r) for r in await fetch(engine, q)]


# -- timeline ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelineRow:
    event_id: str
    person_id: str
    position: int
    stream_version: int
    type: str
    effective_on: date
    recorded_at: datetime
    actor_id: str | None
    track: str | None
    from_level: str | None
    level: str | None
    experience_exception: str | None
    data: dict[str, Any]
    original_data: dict[str, Any] | None
    corrections: list[dict[str, Any]]
    corrected_by: str | None
    rescinded_by: str | None
    rescind_reason: str | None


_TIMELINE_COLUMNS = (
    TL.c.event_id,
    TL.c.person_id,
    TL.c.position,
    TL.c.stream_version,
    TL.c.type,
    TL.c.effective_on,
    TL.c.recorded_at,
    TL.c.actor_id,
    TL.c.track,
    TL.c.from_level,
    TL.c.level,
    TL.c.experience_exception,
    TL.c.data,
    TL.c.original_data,
    TL.c.corrections,
    TL.c.corrected_by,
    TL.c.rescinded_by,
    TL.c.rescind_reason,
)


def _timeline(r: sa.Row[Any]) -> TimelineRow:
    values = dict(r._mapping)
    values["recorded_at"] = utc(values["recorded_at"])
    values["corrections"] = list(values["corrections"] or [])
    return TimelineRow(**values)


async def timelines(engine: AsyncEngine, person_ids: Sequence[str]) -> dict[str, list[TimelineRow]]:
    """Person id -> their career facts in effective order (then log order)."""
    keys = keys_of(person_ids)
    found: dict[str, list[TimelineRow]] = {k: [] for k in keys}
    if not keys:
        return found
    q = (
        sa.select(*_TIMELINE_COLUMNS)
        .where(TL.c.person_id.in_(keys))
        .order_by(TL.c.person_id, TL.c.effective_on, TL.c.position)
    )
    for r in await fetch(engine, q):
        row = _timeline(r)
        found[row.person_id].append(row)
    return found


async def experience_exceptions(
    engine: AsyncEngine,
    *,
    limit: int,
    after: tuple[date, int] | None = None,
) -> list[TimelineRow]:
    """Standing promotions recorded below the target level's experience minimum, ordered by
    ``(effective_on, position)``; rescinded ones are left out."""
    q = sa.select(*_TIMELINE_COLUMNS).where(
        TL.c.type == "PromotionRecorded",
        TL.c.experience_exception.is_not(None),
        TL.c.rescinded_by.is_(None),
    )
    if after is not None:
        q = q.where(sa.tuple_(TL.c.effective_on, TL.c.position) > sa.tuple_(*after))
    q = q.order_by(TL.c.effective_on, TL.c.position).limit(limit)
    return [_timeline(r) for r in await fetch(engine, q)]
