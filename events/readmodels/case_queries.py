"""The promotion workflow's read functions: cases (one, a page, a count), cycles, the
calibration view, and the undecided case of a person (for the nomination rule).

Who sees a case (``CaseViewer``; ``None`` means everyone, for HR and auditors): the
person's managers (everyone they manage, directly or not), its nominator, the reviewers
named on it or on its cycle, and the person once it is decided (approved or declined).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.promotion_cases import recommendation_score
from events.readmodels import queries
from events.readmodels.case_tables import promotion_cases as C
from events.readmodels.case_tables import promotion_cycles as Y
from events.readmodels.views import ReadinessView

DECIDED = ("APPROVED", "DECLINED")
STATUSES = ("NOMINATED", "APPROVED", "DECLINED", "WITHDRAWN")


def _ids(text: str) -> tuple[str, ...]:
    return tuple(i for i in text.split(",") if i)


@dataclass(frozen=True, slots=True)
class CaseView:
    case_id: str
    person_id: str
    track: str
    from_level: str
    to_level: str
    ladder_version: int
    cycle_id: str | None
    status: str
    rationale: str
    nominated_by: str
    nominated_on: date
    evidence: dict[str, list[str]]
    reviews: dict[str, dict[str, str]]
    reviewers: tuple[str, ...]
    effective_on: date | None
    reason: str | None
    decided_by: str | None
    promotion_event_id: str | None
    nominated_position: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CaseView:
        values = {f.name: row[f.name] for f in fields(cls)}
        values["reviewers"] = _ids(row["reviewers"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class CycleView:
    cycle_id: str
    name: str
    closes_on: date
    open: bool
    reviewers: tuple[str, ...]
    opened_position: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CycleView:
        values = {f.name: row[f.name] for f in fields(cls)}
        values["reviewers"] = _ids(row["reviewers"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class CaseViewer:
    """A caller who does not see every case: their person id and who they manage."""

    me: str
    reports: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CaseFilter:
    status: str | None = None
    to_level: str | None = None
    cycle_id: str | None = None
    person_id: str | None = None
    viewer: CaseViewer | None = None


def _visible(viewer: CaseViewer) -> sa.ColumnElement[bool]:
    mark = f",{viewer.me},"
    cycles_reviewed = sa.select(Y.c.cycle_id).where(Y.c.reviewers.contains(mark, autoescape=True))
    conditions: list[sa.ColumnElement[bool]] = [
        C.c.nominated_by == viewer.me,
        C.c.reviewers.contains(mark, autoescape=True),
        C.c.cycle_id.in_(cycles_reviewed),
        sa.and_(C.c.person_id == viewer.me, C.c.status.in_(DECIDED)),
    ]
    if viewer.reports:
        conditions.append(C.c.person_id.in_(sorted(viewer.reports)))
    return sa.or_(*conditions)


def _cases(filters: CaseFilter) -> sa.Select[Any]:
    q = sa.select(C)
    if filters.status is not None:
        q = q.where(C.c.status == filters.status)
    if filters.to_level is not None:
        q = q.where(C.c.to_level == filters.to_level)
    if filters.cycle_id is not None:
        q = q.where(C.c.cycle_id == filters.cycle_id)
    if filters.person_id is not None:
        q = q.where(C.c.person_id == filters.person_id)
    if filters.viewer is not None:
        q = q.where(_visible(filters.viewer))
    return q


async def list_cases(
    engine: AsyncEngine, filters: CaseFilter, *, limit: int | None = None, after: int | None = None
) -> list[CaseView]:
    """Cases in nomination order (``nominated_position``), after the cursor ``after``."""
    q = _cases(filters)
    if after is not None:
        q = q.where(C.c.nominated_position > after)
    rows = await queries.fetch(engine, q.order_by(C.c.nominated_position).limit(limit))
    return [CaseView.from_row(r) for r in rows]


async def count_cases(engine: AsyncEngine, filters: CaseFilter) -> int:
    return await queries.count(engine, _cases(filters))


async def get_case(
    engine: AsyncEngine, case_id: str, viewer: CaseViewer | None = None
) -> CaseView | None:
    """The case, if it exists and ``viewer`` may see it."""
    q = _cases(CaseFilter(viewer=viewer)).where(C.c.case_id == case_id)
    rows = await queries.fetch(engine, q)
    return CaseView.from_row(rows[0]) if rows else None


async def open_case_of(engine: AsyncEngine, person_id: str) -> UUID | None:
    """The id of the person's undecided case, or None."""
    q = sa.select(C.c.case_id).where(C.c.person_id == person_id, C.c.status == "NOMINATED")
    rows = await queries.fetch(engine, q.limit(1))
    if not rows:
        return None
    return UUID(str(rows[0]["case_id"]))


async def get_cycle(engine: AsyncEngine, cycle_id: str) -> CycleView | None:
    rows = await queries.fetch(engine, sa.select(Y).where(Y.c.cycle_id == cycle_id))
    return CycleView.from_row(rows[0]) if rows else None


async def list_cycles(engine: AsyncEngine) -> list[CycleView]:
    """Every cycle, the latest opened first."""
    rows = await queries.fetch(engine, sa.select(Y).order_by(Y.c.opened_position.desc()))
    return [CycleView.from_row(r) for r in rows]


# --- calibration ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CalibrationEntry:
    case: CaseView
    readiness: ReadinessView | None
    covered_areas: tuple[str, ...]
    """The ladder's development areas the case has evidence for."""
    missing_areas: tuple[str, ...]
    """The ladder's development areas without evidence."""
    score: int
    """The reviewers' recommendations summed (``RECOMMENDATION_WEIGHTS``)."""

    @property
    def coverage(self) -> float:
        total = len(self.covered_areas) + len(self.missing_areas)
        return len(self.covered_areas) / total if total else 0.0


@dataclass(frozen=True, slots=True)
class DecisionCount:
    level: str
    status: str
    count: int


@dataclass(frozen=True, slots=True)
class CalibrationView:
    cycle: CycleView
    level: str | None
    entries: tuple[CalibrationEntry, ...]
    """Sorted for comparison: ready first, then by recommendation score, by evidence
    coverage, and in nomination order."""
    counts: tuple[DecisionCount, ...]
    """Cases per target level and status in the cycle (every level), sorted."""


async def calibration(
    engine: AsyncEngine,
    cycle_id: str,
    level: str | None,
    *,
    today: date,
    viewer: CaseViewer | None = None,
) -> CalibrationView | None:
    """The nominees of ``cycle_id`` (for ``level``, or every level) still in it (not
    withdrawn), with what calibrating them needs; None for an unknown cycle."""
    cycle = await get_cycle(engine, cycle_id)
    if cycle is None:
        return None
    cases = await list_cases(engine, CaseFilter(cycle_id=cycle_id, to_level=level, viewer=viewer))
    # Calibration is for those who calibrate: nobody sees themselves compared.
    cases = [
        c for c in cases if c.status != "WITHDRAWN" and (viewer is None or c.person_id != viewer.me)
    ]
    people = await queries.get_people(engine, [c.person_id for c in cases], today=today)
    known = await queries.ladders(engine)
    entries: list[CalibrationEntry] = []
    for case, person in zip(cases, people, strict=True):
        ladder = queries.ladder_of(known, case.track)
        areas = [a.key for a in ladder.development_areas] if ladder is not None else []
        covered = tuple(a for a in areas if case.evidence.get(a))
        missing = tuple(a for a in areas if not case.evidence.get(a))
        ready = None if person is None else queries.readiness_of(person, ladder, today)
        reviews = {r: v["recommendation"] for r, v in case.reviews.items()}
        entries.append(
            CalibrationEntry(case, ready, covered, missing, recommendation_score(reviews))
        )
    entries.sort(
        key=lambda e: (
            not (e.readiness is not None and e.readiness.ready),
            -e.score,
            -e.coverage,
            e.case.nominated_position,
        )
    )
    grouped = (
        sa.select(C.c.to_level, C.c.status, sa.func.count().label("n"))
        .where(C.c.cycle_id == cycle_id)
        .group_by(C.c.to_level, C.c.status)
    )
    if viewer is not None:
        grouped = grouped.where(_visible(viewer))
    rows = await queries.fetch(engine, grouped)
    counts = sorted(
        (DecisionCount(str(r["to_level"]), str(r["status"]), int(r["n"])) for r in rows),
        key=lambda c: (c.level, STATUSES.index(c.status) if c.status in STATUSES else 9),
    )
    return CalibrationView(cycle, level, tuple(entries), tuple(counts))
