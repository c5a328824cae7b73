"""Readiness for the next level: what a person has, and what is still missing.

Pure: computed from the career as effective on a date. Development counted toward the
next level is what happened since the person reached their current level:

* mentorship -- a mentorship (as mentor or mentee) active at some point since then;
* role rotation -- a rotation that ended since then;
* leadership training -- a training completed since then;
* performance and impact -- a training completed or a rotation ended since then in a
  development area of the ladder's ``performance_and_impact`` group (required only when the
  ladder has that group);
* what the next level requires beyond years (``Level.requires``), e.g. leadership
  experience (``LEADERSHIP_MONTHS`` in the current level).

A rotation past its planned end that was not ended is reported as overdue
(``rotation_overdue``); it does not count as done until it ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.career import ACTIVE, Career
from domain.ladder import LEADERSHIP_EXPERIENCE, Ladder, Level
from domain.state import PersonState

EXPERIENCE = "experience"
MENTORSHIP = "mentorship"
ROLE_ROTATION = "role_rotation"
LEADERSHIP_TRAINING = "leadership_training"
PERFORMANCE_AND_IMPACT = "performance_and_impact"
"""A development area group of the seed ladder ("Performance and Impact")."""
MISSING_KEYS = (
    EXPERIENCE,
    LEADERSHIP_EXPERIENCE,
    MENTORSHIP,
    ROLE_ROTATION,
    LEADERSHIP_TRAINING,
    PERFORMANCE_AND_IMPACT,
)
"""The stable keys ``Readiness.missing`` may list, in this order."""

LEADERSHIP_MONTHS = 24
"""``leadership_experience`` (the seed's VP level: "significant leadership experience"):
at least this many months in the level below, which already leads the product team, before
the step up. A ladder's levels name it in ``requires``."""


def requirement_met(key: str, months_in_level: int) -> bool:
    """Whether requirement ``key`` of the next level is met after ``months_in_level`` in
    the current one (an unknown key is never met)."""
    if key == LEADERSHIP_EXPERIENCE:
        return months_in_level >= LEADERSHIP_MONTHS
    return False


def areas_developed(career: Career, since: date, on: date | None = None) -> tuple[str, ...]:
    """Development areas of the trainings completed and rotations ended from ``since`` (to
    ``on``), sorted, each once."""
    areas = {
        t.development_area
        for t in career.trainings
        if since <= t.completed_on and (on is None or t.completed_on <= on)
    }
    areas |= {
        r.development_area
        for r in career.rotations
        if r.ended_on is not None and since <= r.ended_on and (on is None or r.ended_on <= on)
    }
    return tuple(sorted(areas))


def impact_done(ladder: Ladder, areas: tuple[str, ...]) -> bool | None:
    """Whether one of ``areas`` is in the ladder's performance-and-impact group; None when
    the ladder has no such group (nothing to require then)."""
    group = {a.key for a in ladder.development_areas if a.group == PERFORMANCE_AND_IMPACT}
    if not group:
        return None
    return any(area in group for area in areas)


def unmet_requirements(level: Level, months_in_level: int) -> tuple[str, ...]:
    """The requirements of ``level`` (beyond years) not met yet."""
    return tuple(r for r in level.requires if not requirement_met(r, months_in_level))


@dataclass(frozen=True, slots=True)
class Readiness:
    next_level: Level | None
    """None at the top of the ladder, or for a person not active on ``ladder``'s track."""
    experience_met: bool
    years_of_experience: float
    months_in_level: int
    mentorship_done: bool
    rotation_done: bool
    training_done: bool
    missing: tuple[str, ...]
    """Keys of ``MISSING_KEYS`` still missing for the next level; empty without one."""
    rotation_overdue: bool = False
    """The current rotation is past its planned end and not ended (``Career.rotation_overdue``)."""
    impact_done: bool = False
    """A training completed or rotation ended since the current level in a development area
    of the ladder's performance-and-impact group."""

    @property
    def ready(self) -> bool:
        return self.next_level is not None and not self.missing


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (0 if ``end`` is not after ``start``)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def readiness(state: PersonState, ladder: Ladder, on: date) -> Readiness:
    career = state.view_on(on)
    years = career.years_of_experience(on) if career.exists else 0.0
    since = career.level_since
    if (
        career.status != ACTIVE
        or since is None
        or career.track != ladder.track
        or not ladder.has_level(career.level)
    ):
        return Readiness(None, False, years, 0, False, False, False, (), False)
    next_level = ladder.next_level(career.level)
    experience_met = next_level is not None and years + 1e-9 >= next_level.min_years
    mentorship_done = any(
        m.started_on <= on and (m.ended_on is None or m.ended_on >= since)
        for m in career.mentorships
    )
    rotation_done = any(
        r.ended_on is not None and since <= r.ended_on <= on for r in career.rotations
    )
    training_done = any(since <= t.completed_on <= on for t in career.trainings)
    impact = impact_done(ladder, areas_developed(career, since, on))
    months = months_between(since, on)
    unmet = () if next_level is None else unmet_requirements(next_level, months)
    done = {
        EXPERIENCE: experience_met,
        LEADERSHIP_EXPERIENCE: LEADERSHIP_EXPERIENCE not in unmet,
        MENTORSHIP: mentorship_done,
        ROLE_ROTATION: rotation_done,
        LEADERSHIP_TRAINING: training_done,
        PERFORMANCE_AND_IMPACT: impact is not False,
    }
    missing = () if next_level is None else tuple(k for k in MISSING_KEYS if not done[k])
    return Readiness(
        next_level=next_level,
        experience_met=experience_met,
        years_of_experience=years,
        months_in_level=months,
        mentorship_done=mentorship_done,
        rotation_done=rotation_done,
        training_done=training_done,
        missing=missing,
        rotation_overdue=career.rotation_overdue(on),
        impact_done=bool(impact),
    )
