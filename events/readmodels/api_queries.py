"""Read-model queries the GraphQL API needs, batched for its DataLoaders: people, ladders,
census (mentorships, rotations and timelines are in ``api_relations``).

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

from domain.career import ACTIVE, UNKNOWN
from domain.ladder import Ladder
from events.projections.people import derive_columns, state_of
from events.readmodels import tables

MAX_KEYS = 1000
"""At most this many keys per batch (under SQLite's and asyncpg's parameter limits)."""

P = tables.people
LD = tables.ladders


def utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def keys_of(values: Iterable[str]) -> list[str]:
    keys = list(dict.fromkeys(values))
    if len(keys) > MAX_KEYS:
        raise ValueError(f"at most {MAX_KEYS} keys per batch, got {len(keys)}")
    return keys


async def fetch(engine: AsyncEngine, query: sa.Select[Any]) -> list[sa.Row[Any]]:
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


_PERSON_FIELDS = tuple(c.name for c in _PERSON_COLUMNS)


def _people_select(today: date) -> sa.Select[Any]:
    """The people columns, plus the facts of rows with facts effective after ``today``."""
    future = sa.case((P.c.latest_effective_on > today, P.c.facts), else_=sa.null())
    return sa.select(*_PERSON_COLUMNS, future.label("facts")).where(P.c.status != UNKNOWN)


def _person(r: sa.Row[Any], today: date) -> PersonRow | None:
    """A row as of ``today``: one carrying future-dated facts is derived again for today
    with the domain (a promotion effective next month is not the level yet). ``None`` for
    someone whose hire only takes effect later."""
    values = {name: r._mapping[name] for name in _PERSON_FIELDS}
    if r.facts is not None:
        state = state_of({"facts": r.facts})
        derived = derive_columns(state.view_on(today), state)
        values.update({k: v for k, v in derived.items() if k in values})
        if values["status"] == UNKNOWN:
            return None
    return PersonRow(**values)


async def people_by_ids(
    engine: AsyncEngine, person_ids: Sequence[str], *, today: date
) -> dict[str, PersonRow]:
    """The people with these ids as of ``today`` (unknown ids are absent)."""
    keys = keys_of(person_ids)
    if not keys:
        return {}
    q = _people_select(today).where(P.c.person_id.in_(keys))
    found = (_person(r, today) for r in await fetch(engine, q))
    return {p.person_id: p for p in found if p is not None}


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


def _matches(row: PersonRow, filters: PeopleFilter) -> bool:
    return (
        (filters.track is None or row.track == filters.track)
        and (filters.level is None or row.level == filters.level)
        and (filters.status is None or row.status == filters.status)
    )


async def list_people(
    engine: AsyncEngine,
    filters: PeopleFilter,
    *,
    limit: int,
    today: date,
    after: tuple[str, str] | None = None,
) -> list[PersonRow]:
    """People ordered by ``(name, person_id)``, after the key ``after``, at most ``limit``.

    Track, level and status are matched as of ``today``: rows with future-dated facts pass
    the SQL filter and are matched after they are derived for today, so in the rare case
    that some are dropped, the next rows are fetched to fill the page.
    """
    q = _people_select(today)
    future = P.c.latest_effective_on > today
    for column, value in ((P.c.track, filters.track), (P.c.level, filters.level)):
        if value is not None:
            q = q.where(sa.or_(column == value, future))
    if filters.status is not None:
        q = q.where(sa.or_(P.c.status == filters.status, future))
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
    q = q.order_by(P.c.name, P.c.person_id).limit(limit)
    found: list[PersonRow] = []
    while True:
        page = (
            q if after is None else q.where(sa.tuple_(P.c.name, P.c.person_id) > sa.tuple_(*after))
        )
        rows = await fetch(engine, page)
        for r in rows:
            person = _person(r, today)
            if person is not None and _matches(person, filters):
                found.append(person)
        if len(found) >= limit or len(rows) < limit:
            return found[:limit]
        after = (rows[-1].name, rows[-1].person_id)


async def person_facts(engine: AsyncEngine, person_ids: Sequence[str]) -> dict[str, list[Any]]:
    """The recorded facts (``[type, data, event_id]`` each) the people rows keep."""
    keys = keys_of(person_ids)
    if not keys:
        return {}
    rows = await fetch(engine, sa.select(P.c.person_id, P.c.facts).where(P.c.person_id.in_(keys)))
    return {r.person_id: list(r.facts) for r in rows}


async def direct_reports(engine: AsyncEngine, manager_ids: Sequence[str]) -> dict[str, list[str]]:
    """Manager id -> ids of the people whose current manager they are."""
    keys = keys_of(manager_ids)
    if not keys:
        return {}
    q = sa.select(P.c.manager_id, P.c.person_id).where(P.c.manager_id.in_(keys))
    found: dict[str, list[str]] = {k: [] for k in keys}
    for r in await fetch(engine, q):
        found[r.manager_id].append(r.person_id)
    return found


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
    keys = keys_of(tracks)
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
    return {r.track: cache.parse(r.track, r.version, r.ladder) for r in await fetch(engine, q)}


@dataclass(frozen=True, slots=True)
class CensusRow:
    track: str
    level: str
    headcount: int


async def level_census(engine: AsyncEngine, *, today: date) -> list[CensusRow]:
    """Active headcount per ``(track, level)`` on ``today``, from the people read model.

    Rows whose facts all took effect by ``today`` are counted in SQL; the few with
    future-dated facts are derived for ``today`` with the domain and added.
    """
    settled = (
        sa.select(P.c.track, P.c.level, sa.func.count().label("headcount"))
        .where(P.c.status == ACTIVE, P.c.latest_effective_on <= today)
        .group_by(P.c.track, P.c.level)
    )
    counts = {(r.track, r.level): int(r.headcount) for r in await fetch(engine, settled)}
    pending = sa.select(P.c.facts).where(P.c.latest_effective_on > today)
    for r in await fetch(engine, pending):
        career = state_of({"facts": r.facts}).view_on(today)
        if career.status == ACTIVE:
            counts[(career.track, career.level)] = counts.get((career.track, career.level), 0) + 1
    return [CensusRow(t, lv, n) for (t, lv), n in sorted(counts.items())]
