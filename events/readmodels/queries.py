"""Read-model queries: async, on an ``AsyncEngine``, returning frozen dataclasses.

Every single-person query is an indexed lookup, so it costs the same at any org size.
Lists use keyset pagination on a sort key (``after``), never an offset. ``get_people``
answers N ids with ONE statement (for DataLoaders). The API's batched queries
(``api_queries``, ``api_relations``) are built from the pieces here and return these views.

People rows reflect every recorded fact, future-dated ones included. A row whose latest
effective fact lies after ``today`` carries its facts in the same statement and is
re-derived for ``today`` with the domain, so a future-dated promotion shows from its date.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.career import ACTIVE
from domain.errors import LadderError
from domain.ladder import LEADERSHIP_EXPERIENCE, Ladder, bundled_ladder
from domain.readiness import (
    EXPERIENCE,
    LEADERSHIP_TRAINING,
    MENTORSHIP,
    MISSING_KEYS,
    PERFORMANCE_AND_IMPACT,
    ROLE_ROTATION,
    impact_done,
    unmet_requirements,
)
from events.fast_reads import fetch_rows
from events.projections.people import derive_columns, state_of
from events.readmodels import tables
from events.readmodels.views import (
    PERSON_COLUMNS,
    CensusEntry,
    ExperienceException,
    MentorshipView,
    Page,
    PersonView,
    PromotionStats,
    QuarterCount,
    ReadinessView,
    RotationView,
    TimeInLevel,
    TimelineEntry,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

P = tables.people
TL = tables.timeline
M = tables.mentorships
R = tables.rotations
MAX_PAGE = 500
_DAYS_PER_MONTH = 365.25 / 12


def _today(today: date | None) -> date:
    return today if today is not None else date.today()


# --- statements ----------------------------------------------------------------------------


async def fetch(
    engine: AsyncEngine,
    query: sa.Select[Any],
    params: Mapping[str, Any] | None = None,
    *,
    point: bool = False,
) -> list[Mapping[str, Any]]:
    """The rows of one statement (``events.fast_reads``: one thread hop on SQLite, none
    for a ``point`` lookup of a few rows by an index)."""
    return await fetch_rows(engine, query, params, point=point)


async def count(
    engine: AsyncEngine, query: sa.Select[Any], params: Mapping[str, Any] | None = None
) -> int:
    """The number of rows ``query`` returns (one statement)."""
    counted = sa.select(sa.func.count().label("n")).select_from(query.subquery())
    return int((await fetch(engine, counted, params))[0]["n"])


def columns_of(table: sa.Table, view: type[DataclassInstance]) -> list[sa.Column[Any]]:
    """The columns of ``table`` that ``view`` has fields for."""
    return [table.c[f.name] for f in fields(view)]


def after_key(
    columns: Sequence[sa.ColumnElement[Any]], key: Sequence[Any]
) -> sa.ColumnElement[bool]:
    """Rows sorting after ``key`` on ``columns`` (a keyset cursor)."""
    return sa.tuple_(*columns) > sa.tuple_(*key)


class _Keyed(Protocol):
    @property
    def sort_key(self) -> tuple[str, ...]: ...


K = TypeVar("K", bound=_Keyed)


def _page(rows: Sequence[K], limit: int) -> Page[K]:
    """The first ``limit`` of ``rows`` (fetched with one more, to tell whether more follow)."""
    items = tuple(rows[:limit])
    return Page(items, len(rows) > limit, items[-1].sort_key if items else None)


def _limit(first: int) -> int:
    return max(1, min(first, MAX_PAGE))


def people_select(today: date | sa.BindParameter[date]) -> sa.Select[Any]:
    """The people rows' columns of a ``PersonView``, plus ``facts`` on the rows with facts
    effective after ``today`` (``as_of`` derives those again), NULL on the others."""
    future = sa.case((P.c.latest_effective_on > today, P.c.facts), else_=sa.null())
    return sa.select(*[P.c[name] for name in PERSON_COLUMNS], future.label("facts"))


def as_of(row: Mapping[str, Any], today: date) -> Mapping[str, Any]:
    """A people row as of ``today``: one carrying future-dated facts is derived again for
    today with the domain (a promotion effective next month is not the level yet)."""
    if row["facts"] is None:
        return row
    state = state_of({"facts": row["facts"]})
    return {**row, **derive_columns(state.view_on(today), state)}


def like_pattern(text: str) -> str:
    """The ``LIKE`` pattern (escape ``\\``) matching a case-insensitive substring ``text``."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def name_or_email_like(pattern: str | sa.BindParameter[str]) -> sa.ColumnElement[bool]:
    """The name or the email of a person matches ``pattern`` (:func:`like_pattern`),
    lower-cased."""
    return sa.or_(
        sa.func.lower(P.c.name).like(pattern, escape="\\"),
        sa.func.lower(P.c.email).like(pattern, escape="\\"),
    )


# --- people --------------------------------------------------------------------------------


async def get_people(
    engine: AsyncEngine, ids: Sequence[UUID | str], *, today: date | None = None
) -> list[PersonView | None]:
    """The people with ``ids``, in the same order (None where unknown): one statement."""
    on = _today(today)
    keys = [str(i) for i in ids]
    q = people_select(on).where(P.c.person_id.in_(set(keys)))
    found = {r["person_id"]: PersonView.from_row(as_of(r, on)) for r in await fetch(engine, q)}
    return [found.get(k) for k in keys]


async def get_person(
    engine: AsyncEngine, person_id: UUID | str, *, today: date | None = None
) -> PersonView | None:
    return (await get_people(engine, [person_id], today=today))[0]


async def reports_of(
    engine: AsyncEngine, manager_id: UUID | str, *, direct_only: bool = False
) -> list[UUID]:
    """Ids of the people reporting to ``manager_id``, directly or (by default) indirectly."""
    direct = sa.select(P.c.person_id).where(P.c.manager_id == str(manager_id))
    if direct_only:
        rows = await fetch(engine, direct.order_by(P.c.person_id))
        return [UUID(r["person_id"]) for r in rows]
    reports = direct.cte("reports", recursive=True)
    # UNION (not UNION ALL) stops at people already found, so a cycle cannot loop forever.
    reports = reports.union(
        sa.select(P.c.person_id).join(reports, P.c.manager_id == reports.c.person_id)
    )
    rows = await fetch(engine, sa.select(reports.c.person_id).order_by(reports.c.person_id))
    return [UUID(r["person_id"]) for r in rows if r["person_id"] != str(manager_id)]


async def level_census(engine: AsyncEngine, *, track: str | None = None) -> list[CensusEntry]:
    """Active headcount per (track, level)."""
    q = (
        sa.select(P.c.track, P.c.level, sa.func.count().label("headcount"))
        .where(P.c.status == ACTIVE)
        .group_by(P.c.track, P.c.level)
        .order_by(P.c.track, P.c.level)
    )
    if track:
        q = q.where(P.c.track == track)
    return [CensusEntry(r["track"], r["level"], r["headcount"]) for r in await fetch(engine, q)]


# --- timeline, promotions, exceptions ------------------------------------------------------


async def timeline(engine: AsyncEngine, person_id: UUID | str) -> list[TimelineEntry]:
    """A person's career facts in effective order, rescinded ones included (marked)."""
    q = (
        sa.select(*columns_of(TL, TimelineEntry))
        .where(TL.c.person_id == str(person_id))
        .order_by(TL.c.effective_on, TL.c.position)
    )
    return [TimelineEntry.from_row(r) for r in await fetch(engine, q)]


_LEVEL_SETTING = (
    "PersonHired",
    "PersonRehired",
    "PromotionRecorded",
    "DemotionRecorded",
    "LateralMoveRecorded",
)


def _quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


async def promotion_stats(engine: AsyncEngine) -> PromotionStats:
    """Promotions per level promoted to per quarter; median months in the level left."""
    previous = sa.func.lag(TL.c.effective_on, type_=sa.Date).over(
        partition_by=TL.c.person_id, order_by=(TL.c.effective_on, TL.c.position)
    )
    steps = (
        sa.select(TL.c.type, TL.c.track, TL.c.from_level, TL.c.level, TL.c.effective_on)
        .add_columns(previous.label("previous_on"))
        .where(TL.c.type.in_(_LEVEL_SETTING), TL.c.rescinded_by.is_(None))
        .subquery()
    )
    q = sa.select(steps).where(steps.c.type == "PromotionRecorded")
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    months: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in await fetch(engine, q):
        counts[(r["track"], r["level"], _quarter(r["effective_on"]))] += 1
        if r["previous_on"] is not None:
            days = (r["effective_on"] - r["previous_on"]).days
            months[(r["track"], r["from_level"])].append(days / _DAYS_PER_MONTH)
    return PromotionStats(
        per_quarter=tuple(QuarterCount(*k, n) for k, n in sorted(counts.items())),
        time_in_level=tuple(
            TimeInLevel(track, level, len(ms), round(statistics.median(ms), 1))
            for (track, level), ms in sorted(months.items())
        ),
    )


async def experience_exceptions(engine: AsyncEngine) -> list[ExperienceException]:
    """Promotions granted below the experience minimum and not rescinded, for auditors."""
    q = (
        sa.select(TL, P.c.name)
        .join(P, P.c.person_id == TL.c.person_id)
        .where(TL.c.experience_exception.is_not(None), TL.c.rescinded_by.is_(None))
        .order_by(TL.c.effective_on, TL.c.position)
    )
    return [ExperienceException.from_row(r) for r in await fetch(engine, q)]


# --- mentorships, rotations ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MentorshipFilter:
    mentor_id: str | None = None
    mentee_id: str | None = None
    active: bool | None = None
    involving: frozenset[str] | None = None
    """Only mentorships where the mentor or the mentee is one of these; ``None``: all."""


async def list_mentorships(
    engine: AsyncEngine,
    filters: MentorshipFilter,
    *,
    limit: int,
    after: tuple[date, str] | None = None,
) -> list[MentorshipView]:
    """Mentorships ordered by ``(started_on, mentorship_id)``, after ``after``."""
    q = _mentorships(filters)
    order = (M.c.started_on, M.c.mentorship_id)
    if after is not None:
        q = q.where(after_key(order, after))
    rows = await fetch(engine, q.order_by(*order).limit(limit))
    return [MentorshipView.from_row(r) for r in rows]


async def count_mentorships(engine: AsyncEngine, filters: MentorshipFilter) -> int:
    """How many mentorships :func:`list_mentorships` lists with ``filters`` (all pages)."""
    return await count(engine, _mentorships(filters))


def _mentorships(filters: MentorshipFilter) -> sa.Select[Any]:
    q = sa.select(*columns_of(M, MentorshipView))
    if filters.mentor_id is not None:
        q = q.where(M.c.mentor_id == filters.mentor_id)
    if filters.mentee_id is not None:
        q = q.where(M.c.mentee_id == filters.mentee_id)
    if filters.active is not None:
        q = q.where(M.c.active.is_(filters.active))
    if filters.involving is not None:
        ids = sorted(filters.involving)
        q = q.where(sa.or_(M.c.mentor_id.in_(ids), M.c.mentee_id.in_(ids)))
    return q


def _optional(value: UUID | str | None) -> str | None:
    return None if value is None else str(value)


async def mentorships(
    engine: AsyncEngine,
    *,
    mentor_id: UUID | str | None = None,
    mentee_id: UUID | str | None = None,
    person_id: UUID | str | None = None,
    active: bool | None = None,
    first: int = 50,
    after: Sequence[str] | None = None,
) -> Page[MentorshipView]:
    """Mentorships by (start date, id); ``person_id`` matches either side."""
    limit = _limit(first)
    filters = MentorshipFilter(
        mentor_id=_optional(mentor_id),
        mentee_id=_optional(mentee_id),
        active=active,
        involving=None if person_id is None else frozenset({str(person_id)}),
    )
    key = None if after is None else (date.fromisoformat(after[0]), after[1])
    return _page(await list_mentorships(engine, filters, limit=limit + 1, after=key), limit)


@dataclass(frozen=True, slots=True)
class RotationFilter:
    person_id: str | None = None
    active: bool | None = None
    ending_by: date | None = None
    """Only active rotations planned to end on or before this day."""
    visible_to: frozenset[str] | None = None
    """Only the rotations of these people; ``None``: everyone's."""


async def list_rotations(
    engine: AsyncEngine,
    filters: RotationFilter,
    *,
    limit: int | None = None,
    after: tuple[date, str] | None = None,
) -> list[RotationView]:
    """Rotations ordered by ``(started_on, rotation_id)``, after ``after``."""
    q = _rotations(filters)
    order = (R.c.started_on, R.c.rotation_id)
    if after is not None:
        q = q.where(after_key(order, after))
    rows = await fetch(engine, q.order_by(*order).limit(limit))
    return [RotationView.from_row(r) for r in rows]


async def count_rotations(engine: AsyncEngine, filters: RotationFilter) -> int:
    """How many rotations :func:`list_rotations` lists with ``filters`` (all pages)."""
    return await count(engine, _rotations(filters))


def _rotations(filters: RotationFilter) -> sa.Select[Any]:
    q = sa.select(*columns_of(R, RotationView)).where(R.c.void.is_(False))
    if filters.person_id is not None:
        q = q.where(R.c.person_id == filters.person_id)
    if filters.active is not None:
        q = q.where(R.c.active.is_(filters.active))
    if filters.ending_by is not None:
        q = q.where(R.c.active.is_(True), R.c.planned_end_on <= filters.ending_by)
    if filters.visible_to is not None:
        q = q.where(R.c.person_id.in_(sorted(filters.visible_to)))
    return q


async def rotations(
    engine: AsyncEngine,
    *,
    person_id: UUID | str | None = None,
    active: bool | None = None,
    ending_within_days: int | None = None,
    today: date | None = None,
) -> list[RotationView]:
    """Rotations by start date; ``ending_within_days`` keeps active ones planned to end
    within that many days of ``today``."""
    ending_by = None
    if ending_within_days is not None:
        ending_by = _today(today) + timedelta(days=ending_within_days)
    filters = RotationFilter(person_id=_optional(person_id), active=active, ending_by=ending_by)
    return await list_rotations(engine, filters)


# --- readiness -----------------------------------------------------------------------------


async def ladders(engine: AsyncEngine) -> dict[str, Ladder]:
    """The latest published ladder of each track (the bundled ones when none was)."""
    L = tables.ladders
    found: dict[str, Ladder] = {}
    for r in await fetch(engine, sa.select(L).order_by(L.c.track, L.c.version)):
        found[r["track"]] = Ladder.from_dict(r["ladder"])
    return found


def ladder_of(known: Mapping[str, Ladder], track: str) -> Ladder | None:
    if track in known:
        return known[track]
    try:
        return bundled_ladder(track)
    except LadderError:
        return None


def readiness_of(person: PersonView, ladder: Ladder | None, on: date) -> ReadinessView:
    """``domain.readiness``'s rules, on the people row's fields."""
    years = person.years_of_experience(on)
    nothing = ReadinessView(
        person.person_id, person.track, person.level, None, None, years, False, 0,
        False, False, False, (),
    )  # fmt: skip
    if person.status != ACTIVE or ladder is None or not ladder.has_level(person.level):
        return nothing
    upper = ladder.next_level(person.level)
    met = upper is not None and years + 1e-9 >= upper.min_years
    unmet = () if upper is None else unmet_requirements(upper, person.months_in_level(on))
    impact = impact_done(ladder, tuple(person.areas_done))
    done = {
        EXPERIENCE: met,
        LEADERSHIP_EXPERIENCE: LEADERSHIP_EXPERIENCE not in unmet,
        MENTORSHIP: person.mentorship_done,
        ROLE_ROTATION: person.rotation_done,
        LEADERSHIP_TRAINING: person.training_done,
        PERFORMANCE_AND_IMPACT: impact is not False,
    }
    return ReadinessView(
        person_id=person.person_id,
        track=person.track,
        level=person.level,
        next_level=upper.key if upper else None,
        min_years=upper.min_years if upper else None,
        years_of_experience=years,
        experience_met=met,
        months_in_level=person.months_in_level(on),
        mentorship_done=person.mentorship_done,
        rotation_done=person.rotation_done,
        training_done=person.training_done,
        missing=() if upper is None else tuple(k for k in MISSING_KEYS if not done[k]),
        impact_done=bool(impact),
        rotation_overdue=person.rotation_ends_on is not None
        and person.rotation_id is not None
        and person.rotation_ends_on < on,
    )
