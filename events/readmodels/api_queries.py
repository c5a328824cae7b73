"""Read-model queries the GraphQL API needs, batched for its DataLoaders.

Every function runs ONE SQL statement on its own short read connection, whatever the
number of keys (up to ``MAX_KEYS``; the API never asks for more in one batch: its pages
are capped well below), so a page of 100 people costs what a page of 10 costs.

Rows leave as frozen dataclasses. Lists are paged with keyset cursors: the caller passes
the sort key of the last row it saw (``after``) and gets at most ``limit`` rows after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.career import UNKNOWN
from domain.ladder import Ladder
from events.readmodels import tables

MAX_KEYS = 1000
"""At most this many keys per batch (under SQLite's and asyncpg's parameter limits)."""

P = tables.people
TL = tables.timeline
M = tables.mentorships
R = tables.rotations
LD = tables.ladders


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _keys(values: Iterable[str]) -> list[str]:
    keys = list(dict.fromkeys(values))
    if len(keys) > MAX_KEYS:
        raise ValueError(f"at most {MAX_KEYS} keys per batch, got {len(keys)}")
    return keys


async def _rows(engine: AsyncEngine, query: sa.Select[Any]) -> list[sa.Row[Any]]:
    async with engine.connect() as conn:
        return list((await conn.execute(query)).all())


# -- people -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonRow:
    person_id: str
    name: str
    email: str
    track: str
    level: str
    status: str
    manager_id: str | None
    hired_on: date
    departed_on: date | None
    experience_years: float
    experience_since: date | None
    level_since: date
    rotation_id: str | None
    active_mentees: int
    last_position: int

    def years_of_experience(self, on: date) -> float:
        """Experience on ``on``: frozen while departed, growing by the day while employed."""
        if self.experience_since is None or on <= self.experience_since:
            return self.experience_years
        return self.experience_years + (on - self.experience_since).days / 365.25

    def days_in_level(self, on: date) -> int:
        return max((on - self.level_since).days, 0)


_PERSON_COLUMNS = (
    P.c.person_id,
    P.c.name,
    P.c.email,
    P.c.track,
    P.c.level,
    P.c.status,
    P.c.manager_id,
    P.c.hired_on,
    P.c.departed_on,
    P.c.experience_years,
    P.c.experience_since,
    P.c.level_since,
    P.c.rotation_id,
    P.c.active_mentees,
    P.c.last_position,
)


def _person(r: sa.Row[Any]) -> PersonRow:
    return PersonRow(**r._mapping)


async def people_by_ids(engine: AsyncEngine, person_ids: Sequence[str]) -> dict[str, PersonRow]:
    """The people rows with these ids (missing ids are absent from the result)."""
    keys = _keys(person_ids)
    if not keys:
        return {}
    q = sa.select(*_PERSON_COLUMNS).where(P.c.person_id.in_(keys), P.c.status != UNKNOWN)
    return {r.person_id: _person(r) for r in await _rows(engine, q)}


@dataclass(frozen=True, slots=True)
class PeopleFilter:
    track: str | None = None
    level: str | None = None
    status: str | None = None
    search: str | None = None
    """Case-insensitive substring of the name or the email."""
    only_ids: frozenset[str] | None = None
    """Restrict to these people (the caller's visible set); ``None`` means everyone."""


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_people(
    engine: AsyncEngine,
    filters: PeopleFilter,
    *,
    limit: int,
    after: tuple[str, str] | None = None,
) -> list[PersonRow]:
    """People ordered by ``(name, person_id)``, after the key ``after``, at most ``limit``."""
    q = sa.select(*_PERSON_COLUMNS).where(P.c.status != UNKNOWN)
    if filters.track is not None:
        q = q.where(P.c.track == filters.track)
    if filters.level is not None:
        q = q.where(P.c.level == filters.level)
    if filters.status is not None:
        q = q.where(P.c.status == filters.status)
    if filters.search:
        pattern = _like(filters.search)
        q = q.where(
            sa.or_(
                sa.func.lower(P.c.name).like(pattern, escape="\\"),
                sa.func.lower(P.c.email).like(pattern, escape="\\"),
            )
        )
    if filters.only_ids is not None:
        q = q.where(P.c.person_id.in_(sorted(filters.only_ids)))
    if after is not None:
        q = q.where(sa.tuple_(P.c.name, P.c.person_id) > sa.tuple_(*after))
    q = q.order_by(P.c.name, P.c.person_id).limit(limit)
    return [_person(r) for r in await _rows(engine, q)]


async def person_facts(engine: AsyncEngine, person_ids: Sequence[str]) -> dict[str, list[Any]]:
    """The recorded facts (``[type, data, event_id]`` each) the people rows keep."""
    keys = _keys(person_ids)
    if not keys:
        return {}
    rows = await _rows(engine, sa.select(P.c.person_id, P.c.facts).where(P.c.person_id.in_(keys)))
    return {r.person_id: list(r.facts) for r in rows}


async def direct_reports(engine: AsyncEngine, manager_ids: Sequence[str]) -> dict[str, list[str]]:
    """Manager id -> ids of the people whose current manager they are."""
    keys = _keys(manager_ids)
    if not keys:
        return {}
    q = sa.select(P.c.manager_id, P.c.person_id).where(P.c.manager_id.in_(keys))
    found: dict[str, list[str]] = {k: [] for k in keys}
    for r in await _rows(engine, q):
        found[r.manager_id].append(r.person_id)
    return found


async def reports_of(engine: AsyncEngine, manager_id: str) -> set[str]:
    """Everyone reporting to ``manager_id``, directly or indirectly (cycles are cut).

    One statement: the org chart is small next to a page of people (a few columns per
    person), and walking it in memory avoids one query per level of the hierarchy.
    """
    rows = await _rows(
        engine, sa.select(P.c.person_id, P.c.manager_id).where(P.c.manager_id.is_not(None))
    )
    children: dict[str, list[str]] = {}
    for r in rows:
        children.setdefault(r.manager_id, []).append(r.person_id)
    seen: set[str] = set()
    stack = [manager_id]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in seen and child != manager_id:
                seen.add(child)
                stack.append(child)
    return seen


# -- ladders ----------------------------------------------------------------------------


class LadderCache:
    """Published ladders parsed once per ``(track, version)``: a version never changes."""

    def __init__(self) -> None:
        self._parsed: dict[tuple[str, int], Ladder] = {}

    def parse(self, track: str, version: int, data: dict[str, Any]) -> Ladder:
        key = (track, version)
        found = self._parsed.get(key)
        if found is None:
            found = Ladder.from_dict(data).with_version(version)
            self._parsed[key] = found
        return found


async def current_ladders(
    engine: AsyncEngine, tracks: Sequence[str], cache: LadderCache
) -> dict[str, Ladder]:
    """Track -> its latest published ladder (tracks without one are absent)."""
    keys = _keys(tracks)
    if not keys:
        return {}
    latest = (
        sa.select(LD.c.track, sa.func.max(LD.c.version).label("version"))
        .where(LD.c.track.in_(keys))
        .group_by(LD.c.track)
        .subquery()
    )
    q = sa.select(LD.c.track, LD.c.version, LD.c.ladder).join(
        latest, sa.and_(LD.c.track == latest.c.track, LD.c.version == latest.c.version)
    )
    return {r.track: cache.parse(r.track, r.version, r.ladder) for r in await _rows(engine, q)}


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
    keys = _keys(ids)
    found: dict[str, list[MentorshipRow]] = {k: [] for k in keys}
    if not keys:
        return found
    q = (
        sa.select(*_MENTORSHIP_COLUMNS)
        .where(column.in_(keys), M.c.active.is_(True))
        .order_by(M.c.started_on, M.c.mentorship_id)
    )
    for r in await _rows(engine, q):
        row = _mentorship(r)
        found[getattr(row, column.name)].append(row)
    return found


async def mentorships_by_ids(
    engine: AsyncEngine, mentorship_ids: Sequence[str]
) -> dict[str, MentorshipRow]:
    keys = _keys(mentorship_ids)
    if not keys:
        return {}
    q = sa.select(*_MENTORSHIP_COLUMNS).where(M.c.mentorship_id.in_(keys))
    return {r.mentorship_id: _mentorship(r) for r in await _rows(engine, q)}


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
    return [_mentorship(r) for r in await _rows(engine, q)]


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
    keys = _keys(person_ids)
    if not keys:
        return {}
    q = (
        sa.select(*_ROTATION_COLUMNS)
        .where(R.c.person_id.in_(keys), R.c.active.is_(True))
        .order_by(R.c.started_on)
    )
    return {r.person_id: _rotation(r) for r in await _rows(engine, q)}


async def rotations_by_ids(
    engine: AsyncEngine, rotation_ids: Sequence[str]
) -> dict[str, RotationRow]:
    keys = _keys(rotation_ids)
    if not keys:
        return {}
    q = sa.select(*_ROTATION_COLUMNS).where(R.c.rotation_id.in_(keys))
    return {r.rotation_id: _rotation(r) for r in await _rows(engine, q)}


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
    return [_rotation(r) for r in await _rows(engine, q)]


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
    values["recorded_at"] = _utc(values["recorded_at"])
    values["corrections"] = list(values["corrections"] or [])
    return TimelineRow(**values)


async def timelines(engine: AsyncEngine, person_ids: Sequence[str]) -> dict[str, list[TimelineRow]]:
    """Person id -> their career facts in effective order (then log order)."""
    keys = _keys(person_ids)
    found: dict[str, list[TimelineRow]] = {k: [] for k in keys}
    if not keys:
        return found
    q = (
        sa.select(*_TIMELINE_COLUMNS)
        .where(TL.c.person_id.in_(keys))
        .order_by(TL.c.person_id, TL.c.effective_on, TL.c.position)
    )
    for r in await _rows(engine, q):
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
    return [_timeline(r) for r in await _rows(engine, q)]


LEVEL_SETTING_TYPES = (
    "PersonHired",
    "PersonRehired",
    "PromotionRecorded",
    "DemotionRecorded",
    "LateralMoveRecorded",
)


async def level_changes(engine: AsyncEngine) -> list[TimelineRow]:
    """Every standing level-setting fact of every person with a promotion, in person and
    effective order (promotion statistics are computed from them)."""
    promoted = (
        sa.select(TL.c.person_id)
        .where(TL.c.type == "PromotionRecorded", TL.c.rescinded_by.is_(None))
        .distinct()
    )
    q = (
        sa.select(*_TIMELINE_COLUMNS)
        .where(
            TL.c.type.in_(LEVEL_SETTING_TYPES),
            TL.c.rescinded_by.is_(None),
            TL.c.person_id.in_(promoted),
        )
        .order_by(TL.c.person_id, TL.c.effective_on, TL.c.position)
    )
    return [_timeline(r) for r in await _rows(engine, q)]


@dataclass(frozen=True, slots=True)
class CensusRow:
    track: str
    level: str
    headcount: int


async def level_census(engine: AsyncEngine) -> list[CensusRow]:
    """Active headcount per ``(track, level)``, as the people read model has it now."""
    q = (
        sa.select(P.c.track, P.c.level, sa.func.count().label("headcount"))
        .where(P.c.status == "active")
        .group_by(P.c.track, P.c.level)
        .order_by(P.c.track, P.c.level)
    )
    return [CensusRow(r.track, r.level, int(r.headcount)) for r in await _rows(engine, q)]
