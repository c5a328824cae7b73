"""Read-model queries: async, on an ``AsyncEngine``, returning frozen dataclasses.

Every single-person query is an indexed lookup, so it costs the same at any org size.
Lists use keyset pagination on a sort key (``after``), never an offset. ``get_people``
answers N ids with ONE statement (for DataLoaders).

People rows reflect every recorded fact, future-dated ones included. A row whose latest
effective fact lies after ``today`` carries its facts in the same statement and is
re-derived for ``today`` with the domain, so a future-dated promotion shows from its date.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.career import ACTIVE, UNKNOWN
from domain.errors import LadderError
from domain.ladder import Ladder, bundled_ladder
from domain.readiness import (
    EXPERIENCE,
    LEADERSHIP_TRAINING,
    MENTORSHIP,
    MISSING_KEYS,
    ROLE_ROTATION,
)
from events.projections.people import derive_columns, state_of
from events.readmodels import tables
from events.readmodels.views import (
    CensusEntry,
    ExperienceException,
    MentorLoad,
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

P = tables.people
TL = tables.timeline
MAX_PAGE = 500
_DAYS_PER_MONTH = 365.25 / 12


def _today(today: date | None) -> date:
    return today if today is not None else date.today()


def _people_select(today: date) -> sa.Select[Any]:
    columns = [c for c in P.columns if c.name != "facts"]
    facts = sa.case((P.c.latest_effective_on > today, P.c.facts), else_=sa.null()).label("facts")
    return sa.select(*columns, facts)


def _person(row: Mapping[str, Any], today: date) -> PersonView:
    if row["facts"] is None:
        return PersonView.from_row(row)
    state = state_of({"facts": row["facts"]})
    return PersonView.from_row({**row, **derive_columns(state.view_on(today), state)})


async def _rows(engine: AsyncEngine, query: sa.Select[Any]) -> list[Mapping[str, Any]]:
    async with engine.connect() as conn:
        return [r._mapping for r in await conn.execute(query)]


# --- people --------------------------------------------------------------------------------


async def get_people(
    engine: AsyncEngine, ids: Sequence[UUID | str], *, today: date | None = None
) -> list[PersonView | None]:
    """The people with ``ids``, in the same order (None where unknown): one statement."""
    on = _today(today)
    keys = [str(i) for i in ids]
    rows = await _rows(engine, _people_select(on).where(P.c.person_id.in_(set(keys))))
    found = {r["person_id"]: _person(r, on) for r in rows}
    return [found.get(k) for k in keys]


async def get_person(
    engine: AsyncEngine, person_id: UUID | str, *, today: date | None = None
) -> PersonView | None:
    return (await get_people(engine, [person_id], today=today))[0]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_people(
    engine: AsyncEngine,
    *,
    first: int = 50,
    after: Sequence[str] | None = None,
    track: str | None = None,
    level: str | None = None,
    status: str | None = None,
    search: str | None = None,
    manager_id: UUID | str | None = None,
    today: date | None = None,
) -> Page[PersonView]:
    """People by (name, id), after the sort key ``after``; ``first`` is capped at 500."""
    on = _today(today)
    limit = max(1, min(first, MAX_PAGE))
    q = _people_select(on)
    q = q.where(P.c.status == status) if status else q.where(P.c.status != UNKNOWN)
    if track:
        q = q.where(P.c.track == track)
    if level:
        q = q.where(P.c.level == level)
    if manager_id is not None:
        q = q.where(P.c.manager_id == str(manager_id))
    if search:
        pattern = f"%{_escape_like(search.lower())}%"
        q = q.where(
            sa.or_(
                sa.func.lower(P.c.name).like(pattern, escape="\\"),
                sa.func.lower(P.c.email).like(pattern, escape="\\"),
            )
        )
    if after is not None:
        name, pid = after
        q = q.where(sa.or_(P.c.name > name, sa.and_(P.c.name == name, P.c.person_id > pid)))
    rows = await _rows(engine, q.order_by(P.c.name, P.c.person_id).limit(limit + 1))
    items = tuple(_person(r, on) for r in rows[:limit])
    return Page(items, len(rows) > limit, items[-1].sort_key if items else None)


async def reports_of(
    engine: AsyncEngine, manager_id: UUID | str, *, direct_only: bool = False
) -> list[UUID]:
    """Ids of the people reporting to ``manager_id``, directly or (by default) indirectly."""
    direct = sa.select(P.c.person_id).where(P.c.manager_id == str(manager_id))
    if direct_only:
        rows = await _rows(engine, direct.order_by(P.c.person_id))
        return [UUID(r["person_id"]) for r in rows]
    reports = direct.cte("reports", recursive=True)
    # UNION (not UNION ALL) stops at people already found, so a cycle cannot loop forever.
    reports = reports.union(
        sa.select(P.c.person_id).join(reports, P.c.manager_id == reports.c.person_id)
    )
    rows = await _rows(engine, sa.select(reports.c.person_id).order_by(reports.c.person_id))
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
    return [CensusEntry(r["track"], r["level"], r["headcount"]) for r in await _rows(engine, q)]


# --- timeline, promotions, exceptions ------------------------------------------------------


async def timeline(engine: AsyncEngine, person_id: UUID | str) -> list[TimelineEntry]:
    """A person's career facts in effective order, rescinded ones included (marked)."""
    q = (
        sa.select(TL)
        .where(TL.c.person_id == str(person_id))
        .order_by(TL.c.effective_on, TL.c.position)
    )
    return [TimelineEntry.from_row(r) for r in await _rows(engine, q)]


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
    for r in await _rows(engine, q):
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
    return [
        ExperienceException(
            event_id=UUID(r["event_id"]),
            person_id=UUID(r["person_id"]),
            name=r["name"],
            track=r["track"],
            from_level=r["from_level"],
            to_level=r["level"],
            effective_on=r["effective_on"],
            reason=r["experience_exception"],
            recorded_at=r["recorded_at"],
            actor_id=r["actor_id"],
            position=r["position"],
        )
        for r in await _rows(engine, q)
    ]


# --- mentorships, rotations ----------------------------------------------------------------


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
    M = tables.mentorships
    limit = max(1, min(first, MAX_PAGE))
    q = sa.select(M)
    if mentor_id is not None:
        q = q.where(M.c.mentor_id == str(mentor_id))
    if mentee_id is not None:
        q = q.where(M.c.mentee_id == str(mentee_id))
    if person_id is not None:
        q = q.where(sa.or_(M.c.mentor_id == str(person_id), M.c.mentee_id == str(person_id)))
    if active is not None:
        q = q.where(M.c.active == active)
    if after is not None:
        started, mid = date.fromisoformat(after[0]), after[1]
        q = q.where(
            sa.or_(
                M.c.started_on > started,
                sa.and_(M.c.started_on == started, M.c.mentorship_id > mid),
            )
        )
    rows = await _rows(engine, q.order_by(M.c.started_on, M.c.mentorship_id).limit(limit + 1))
    items = tuple(MentorshipView.from_row(r) for r in rows[:limit])
    return Page(items, len(rows) > limit, items[-1].sort_key if items else None)


async def mentor_loads(
    engine: AsyncEngine, mentor_ids: Sequence[UUID | str] | None = None
) -> list[MentorLoad]:
    """Active mentees per mentor (mentors with none are left out), busiest first."""
    M = tables.mentorships
    count = sa.func.count().label("n")
    q = sa.select(M.c.mentor_id, count).where(M.c.active.is_(True)).group_by(M.c.mentor_id)
    if mentor_ids is not None:
        q = q.where(M.c.mentor_id.in_([str(i) for i in mentor_ids]))
    rows = await _rows(engine, q.order_by(count.desc(), M.c.mentor_id))
    return [MentorLoad(UUID(r["mentor_id"]), r["n"]) for r in rows]


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
    R = tables.rotations
    q = sa.select(R)
    if person_id is not None:
        q = q.where(R.c.person_id == str(person_id))
    if active is not None:
        q = q.where(R.c.active == active)
    if ending_within_days is not None:
        until = _today(today) + timedelta(days=ending_within_days)
        q = q.where(R.c.active.is_(True), R.c.planned_end_on <= until)
    rows = await _rows(engine, q.order_by(R.c.started_on, R.c.rotation_id))
    return [RotationView.from_row(r) for r in rows]


# --- readiness -----------------------------------------------------------------------------


async def ladders(engine: AsyncEngine) -> dict[str, Ladder]:
    """The latest published ladder of each track (the bundled ones when none was)."""
    L = tables.ladders
    found: dict[str, Ladder] = {}
    for r in await _rows(engine, sa.select(L).order_by(L.c.track, L.c.version)):
        found[r["track"]] = Ladder.from_dict(r["ladder"])
    return found


def _ladder(known: Mapping[str, Ladder], track: str) -> Ladder | None:
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
    done = {
        EXPERIENCE: met,
        MENTORSHIP: person.mentorship_done,
        ROLE_ROTATION: person.rotation_done,
        LEADERSHIP_TRAINING: person.training_done,
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
    )


async def readiness(
    engine: AsyncEngine, person_id: UUID | str, *, today: date | None = None
) -> ReadinessView | None:
    """Promotion readiness of one person (None when unknown)."""
    on = _today(today)
    person = await get_person(engine, person_id, today=on)
    if person is None:
        return None
    return readiness_of(person, _ladder(await ladders(engine), person.track), on)


async def readiness_list(
    engine: AsyncEngine,
    *,
    track: str | None = None,
    level: str | None = None,
    first: int = 50,
    after: Sequence[str] | None = None,
    today: date | None = None,
) -> Page[ReadinessView]:
    """Readiness of active people, by (name, id)."""
    on = _today(today)
    page = await list_people(
        engine, first=first, after=after, track=track, level=level, status=ACTIVE, today=on
    )
    known = await ladders(engine)
    items = tuple(readiness_of(p, _ladder(known, p.track), on) for p in page.items)
    return Page(items, page.has_next, page.end_cursor)
