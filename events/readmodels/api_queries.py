"""Read-model queries the GraphQL API needs, batched for its DataLoaders: people, ladders,
census (mentorships, rotations and timelines are in ``api_relations``; the lists of
mentorships and rotations are ``queries``' own).

Every function runs ONE SQL statement on its own short read connection, whatever the
number of keys (up to ``MAX_KEYS``; the API never asks for more in one batch: its pages
are capped well below), so a page of 100 people costs what a page of 10 costs.

Rows leave as ``views``' immutable rows. Lists are paged with keyset cursors: the caller passes
the sort key of the last row it saw (``after``) and gets at most ``limit`` rows after it.
People leave as ``views.PersonView``, derived for today as ``queries.get_people`` derives
them (``queries.as_of``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.career import ACTIVE, UNKNOWN
from domain.ladder import Ladder
from events.projections.people import state_of
from events.readmodels import queries, tables
from events.readmodels.queries import (
    after_key,
    as_of,
    fetch,
    like_pattern,
    name_or_email_like,
    people_select,
    readiness_of,
)
from events.readmodels.views import CensusEntry, PersonView

MAX_KEYS = 1000
"""At most this many keys per batch (under SQLite's and asyncpg's parameter limits)."""
POINT_KEYS = 100
"""A batch of up to this many keys is a ``point`` read (``events.fast_reads``)."""

P = tables.people
LD = tables.ladders


def keys_of(values: Iterable[str]) -> list[str]:
    keys = list(dict.fromkeys(values))
    if len(keys) > MAX_KEYS:
        raise ValueError(f"at most {MAX_KEYS} keys per batch, got {len(keys)}")
    return keys


# -- people -----------------------------------------------------------------------------


@cache
def _people_by_ids() -> sa.Select[Any]:
    """``people_by_ids``' statement, built once: ``today`` and ``ids`` are bound per call."""
    today = sa.bindparam("today", type_=P.c.latest_effective_on.type)
    return (
        people_select(today)
        .where(P.c.status != UNKNOWN)
        .where(P.c.person_id.in_(sa.bindparam("ids", expanding=True)))
    )


def _person(r: Mapping[str, Any], today: date) -> PersonView | None:
    """A row as of ``today`` (``queries.as_of``); ``None`` for someone whose hire only
    takes effect later."""
    values = as_of(r, today)
    if values["status"] == UNKNOWN:
        return None
    return PersonView.from_row(values)


async def people_by_ids(
    engine: AsyncEngine, person_ids: Sequence[str], *, today: date
) -> dict[str, PersonView]:
    """The people with these ids as of ``today`` (unknown ids are absent)."""
    keys = keys_of(person_ids)
    if not keys:
        return {}
    rows = await fetch(
        engine, _people_by_ids(), {"today": today, "ids": keys}, point=len(keys) <= POINT_KEYS
    )
    found = (_person(r, today) for r in rows)
    return {p.person_id: p for p in found if p is not None}


class PeopleOrder(enum.Enum):
    """The sort orders of the roster; each ends on the person id, so every key is unique."""

    NAME = "name"
    """``(name, id)``."""
    LEVEL = "level"
    """Most senior first: ``(-rank, name, id)``, the rank in the track's current ladder
    (0 for a level the ladder does not have, after every known level)."""
    HIRED_ON = "hired_on"
    """Earliest hire first: ``(hired_on, id)``."""
    TIME_IN_LEVEL = "time_in_level"
    """Longest in their level first: ``(level_since, id)``."""


PeopleKey = tuple[Any, ...]
"""A row's sort key in its order: ``(str, str)``, ``(int, str, str)`` or ``(date, str)``."""


@dataclass(frozen=True, slots=True)
class PeopleFilter:
    track: str | None = None
    level: str | None = None
    status: str | None = None
    search: str | None = None
    """Case-insensitive substring of the name or the email."""
    only_ids: frozenset[str] | None = None
    """Restrict to these people (the caller's visible set); ``None`` means everyone."""
    ready: bool | None = None
    """Only people ready (``True``) or not ready (``False``) for their next level, by
    ``queries.readiness_of`` on the current ladder of their track."""
    missing: str | None = None
    """Only people whose readiness for their next level (as for ``ready``) still misses
    this key of ``domain.readiness.MISSING_KEYS`` (a development-area gap)."""

    @property
    def by_readiness(self) -> bool:
        """Matched on readiness: every row is derived and judged in Python."""
        return self.ready is not None or self.missing is not None


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """A person and their sort key, taken from the stored row so that it follows the order
    of the SQL statement even for a row derived again for today."""

    person: PersonView
    key: PeopleKey
    ladder_version: int | None
    """The latest published version of the ladder of the person's track when the row was
    read (``None``: none yet), read in the same statement: the page's ladders come from
    ``LadderCache`` without a statement of their own once a version is known."""


def _matches(
    person: PersonView, filters: PeopleFilter, ladders: Mapping[str, Ladder], today: date
) -> bool:
    if not (
        (filters.track is None or person.track == filters.track)
        and (filters.level is None or person.level == filters.level)
        and (filters.status is None or person.status == filters.status)
    ):
        return False
    if not filters.by_readiness:
        return True
    found = readiness_of(person, ladders.get(person.track), today)
    if filters.ready is not None and found.ready is not filters.ready:
        return False
    return filters.missing is None or filters.missing in found.missing


def _rank(ladders: Mapping[str, Ladder]) -> sa.ColumnElement[int]:
    whens = [
        (sa.and_(P.c.track == track, P.c.level == level.key), -level.rank)
        for track, ladder in sorted(ladders.items())
        for level in ladder.levels
    ]
    if not whens:
        return sa.literal(0)
    return sa.case(*whens, else_=0)


def _order(order: PeopleOrder, ladders: Mapping[str, Ladder]) -> tuple[sa.ColumnElement[Any], ...]:
    if order is PeopleOrder.LEVEL:
        return (_rank(ladders), P.c.name, P.c.person_id)
    if order is PeopleOrder.HIRED_ON:
        return (P.c.hired_on, P.c.person_id)
    if order is PeopleOrder.TIME_IN_LEVEL:
        return (P.c.level_since, P.c.person_id)
    return (P.c.name, P.c.person_id)


@dataclass(frozen=True, slots=True)
class _FilterShape:
    """Which filters a roster statement has (their values are bound per call)."""

    by_readiness: bool
    track: bool
    level: bool
    status: bool
    search: bool
    only_ids: bool

    @classmethod
    def of(cls, filters: PeopleFilter) -> _FilterShape:
        return cls(
            by_readiness=filters.by_readiness,
            track=filters.track is not None,
            level=filters.level is not None,
            status=filters.status is not None,
            search=bool(filters.search),
            only_ids=filters.only_ids is not None,
        )


_UNFILTERED = _FilterShape(False, False, False, False, False, False)


def _bound(column: sa.ColumnElement[Any], name: str) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=column.type)


TODAY = _bound(P.c.latest_effective_on, "today")
LADDER_VERSION = (
    sa.select(sa.func.max(LD.c.version)).where(LD.c.track == P.c.track).scalar_subquery()
).label("ladder_version")
"""The latest published version of the ladder of the row's track (NULL: none yet)."""


@cache
def _filtered_statement(shape: _FilterShape) -> sa.Select[Any]:
    """The people rows that may match filters of ``shape``, built once per shape: rows with
    future-dated facts pass the SQL conditions and are matched after they are derived for
    ``today``."""
    q = people_select(TODAY).where(P.c.status != UNKNOWN)
    future = P.c.latest_effective_on > TODAY
    for wanted, column in ((shape.track, P.c.track), (shape.level, P.c.level)):
        if wanted:
            q = q.where(sa.or_(column == _bound(column, column.name), future))
    if shape.status:
        q = q.where(sa.or_(P.c.status == _bound(P.c.status, "status"), future))
    if shape.search:
        q = q.where(name_or_email_like(sa.bindparam("search", type_=sa.String())))
    if shape.only_ids:
        q = q.where(P.c.person_id.in_(sa.bindparam("ids", expanding=True)))
    return q


def _filtered(filters: PeopleFilter, today: date) -> tuple[sa.Select[Any], dict[str, Any]]:
    """The statement of the rows that may match ``filters`` on ``today``, and its values."""
    params: dict[str, Any] = {"today": today}
    if filters.track is not None:
        params["track"] = filters.track
    if filters.level is not None:
        params["level"] = filters.level
    if filters.status is not None:
        params["status"] = filters.status
    if filters.search:
        params["search"] = like_pattern(filters.search)
    if filters.only_ids is not None:
        params["ids"] = sorted(filters.only_ids)
    return _filtered_statement(_FilterShape.of(filters)), params


@cache
def _sorted_statement(
    shape: _FilterShape, order: PeopleOrder, after: bool
) -> tuple[sa.Select[Any], tuple[str, ...]]:
    """:func:`_filtered_statement` in ``order`` (not the ladder-ranked one), after a key
    bound as ``_a0``... and at most ``limit`` rows; with the labels of its key columns."""
    sort = _order(order, {})
    names = tuple(f"_k{i}" for i in range(len(sort)))
    q = _filtered_statement(shape).add_columns(
        LADDER_VERSION, *(c.label(n) for c, n in zip(sort, names, strict=True))
    )
    if after:
        q = q.where(after_key(sort, [_bound(c, f"_a{i}") for i, c in enumerate(sort)]))
    return q.order_by(*sort).limit(sa.bindparam("limit", type_=sa.Integer())), names


READY_BATCH = 200
"""Rows fetched at a time when readiness is filtered in Python (most rows may not match)."""


async def list_people(
    engine: AsyncEngine,
    filters: PeopleFilter,
    *,
    limit: int,
    today: date,
    after: PeopleKey | None = None,
    order: PeopleOrder = PeopleOrder.NAME,
) -> list[RosterEntry]:
    """People in ``order`` (see :class:`PeopleOrder`), after the key ``after``, at most
    ``limit``, matched on ``today``.

    Rows with future-dated facts (and, with ``filters.by_readiness``, every row) are matched
    after they are derived for today, so when some are dropped the next rows are fetched to
    fill the page. Keys come from the stored columns: the order the statement sorts by.
    """
    ladders = await _ladders(engine) if needs_ladders(filters, order) else {}
    batch = max(limit, READY_BATCH) if filters.by_readiness else limit
    base, params = _filtered(filters, today)
    # By name without filters, the statement walks the name index and stops at the page:
    # a point read (``events.fast_reads``). Filters may skip most of the index.
    point = order is PeopleOrder.NAME and _FilterShape.of(filters) == _UNFILTERED
    found: list[RosterEntry] = []
    while True:
        if order is PeopleOrder.LEVEL:  # ranked by the ladders: built per call
            sort = _order(order, ladders)
            names: tuple[str, ...] = tuple(f"_k{i}" for i in range(len(sort)))
            labels = (c.label(n) for c, n in zip(sort, names, strict=True))
            q = base.add_columns(LADDER_VERSION, *labels)
            if after is not None:
                q = q.where(after_key(sort, after))
            q = q.order_by(*sort).limit(batch)
        else:
            q, names = _sorted_statement(_FilterShape.of(filters), order, after is not None)
            params["limit"] = batch
            for i, value in enumerate(after or ()):
                params[f"_a{i}"] = value
        rows = await fetch(engine, q, params, point=point)
        for r in rows:
            person = _person(r, today)
            if person is not None and _matches(person, filters, ladders, today):
                key = tuple([r[n] for n in names])
                found.append(RosterEntry(person, key, r["ladder_version"]))
        if len(found) >= limit or len(rows) < batch:
            return found[:limit]
        last = rows[-1]
        after = tuple([last[n] for n in names])


def needs_ladders(filters: PeopleFilter, order: PeopleOrder) -> bool:
    return filters.by_readiness or order is PeopleOrder.LEVEL


async def _ladders(engine: AsyncEngine) -> dict[str, Ladder]:
    """The ladder of each track people are on, as ``queries.readiness`` judges them by."""
    known = await queries.ladders(engine)
    tracks = [r["track"] for r in await fetch(engine, sa.select(P.c.track).distinct())]
    found = {track: queries.ladder_of(known, track) for track in tracks}
    return {track: ladder for track, ladder in found.items() if ladder is not None}


async def count_people(engine: AsyncEngine, filters: PeopleFilter, *, today: date) -> int:
    """How many people :func:`list_people` lists with ``filters`` on ``today`` (all pages).

    Rows whose facts all took effect by ``today`` are counted in SQL; the others (and, with
    ``filters.by_readiness``, every row) are derived and matched as :func:`list_people` does."""
    q, params = _filtered(filters, today)
    settled = P.c.latest_effective_on <= TODAY
    total = 0
    if not filters.by_readiness:
        total = await queries.count(engine, q.where(settled), params)
        q = q.where(sa.not_(settled))
    ladders = await _ladders(engine) if filters.by_readiness else {}
    for r in await fetch(engine, q, params):
        person = _person(r, today)
        if person is not None and _matches(person, filters, ladders, today):
            total += 1
    return total


# -- ladders ----------------------------------------------------------------------------


class LadderCache:
    """Published ladders parsed once per ``(track, version)``: a version never changes."""

    def __init__(self) -> None:
        self._parsed: dict[tuple[str, int], Ladder] = {}

    def known(self, track: str, version: int) -> Ladder | None:
        return self._parsed.get((track, version))

    def parse(self, track: str, version: int, data: dict[str, Any]) -> Ladder:
        key = (track, version)
        found = self._parsed.get(key)
        if found is None:
            found = Ladder.from_dict(data).with_version(version)
            self._parsed[key] = found
        return found


@cache
def _latest_versions() -> sa.Select[Any]:
    """Track -> its latest ladder version, for the tracks bound as ``tracks`` (built once)."""
    return (
        sa.select(LD.c.track, sa.func.max(LD.c.version).label("version"))
        .where(LD.c.track.in_(sa.bindparam("tracks", expanding=True)))
        .group_by(LD.c.track)
    )


async def current_ladders(
    engine: AsyncEngine, tracks: Sequence[str], cache: LadderCache
) -> dict[str, Ladder]:
    """Track -> its latest published ladder (tracks without one are absent).

    Asks for the latest version of each track first; a ladder's JSON is read (and
    parsed) only for a version not seen before, since a version never changes."""
    keys = keys_of(tracks)
    if not keys:
        return {}
    latest = await fetch(engine, _latest_versions(), {"tracks": keys}, point=True)
    versions = {r["track"]: int(r["version"]) for r in latest}
    found = {t: cache.known(t, v) for t, v in versions.items()}
    missing = [(t, v) for t, v in versions.items() if found[t] is None]
    if missing:
        q = sa.select(LD.c.track, LD.c.version, LD.c.ladder).where(
            sa.tuple_(LD.c.track, LD.c.version).in_(missing)
        )
        for r in await fetch(engine, q):
            found[r["track"]] = cache.parse(r["track"], r["version"], r["ladder"])
    return {t: ladder for t, ladder in found.items() if ladder is not None}


async def level_census(engine: AsyncEngine, *, today: date) -> list[CensusEntry]:
    """Active headcount per ``(track, level)`` on ``today``, from the people read model.

    Rows whose facts all took effect by ``today`` are counted in SQL; the few with
    future-dated facts are derived for ``today`` with the domain and added.
    """
    settled = (
        sa.select(P.c.track, P.c.level, sa.func.count().label("headcount"))
        .where(P.c.status == ACTIVE, P.c.latest_effective_on <= today)
        .group_by(P.c.track, P.c.level)
    )
    rows = await fetch(engine, settled)
    counts = {(r["track"], r["level"]): int(r["headcount"]) for r in rows}
    pending = sa.select(P.c.facts).where(P.c.latest_effective_on > today)
    for r in await fetch(engine, pending):
        career = state_of({"facts": r["facts"]}).view_on(today)
        if career.status == ACTIVE:
            counts[(career.track, career.level)] = counts.get((career.track, career.level), 0) + 1
    return [CensusEntry(t, lv, n) for (t, lv), n in sorted(counts.items())]
