"""The read models' projections. ``ALL`` is what the projector runs by default."""

from __future__ import annotations

from events.projections.base import Envelope, Projection, Row, Workspace, replay
from events.projections.development import ladders, mentorships, rotations
from events.projections.people import people
from events.projections.promotion_cases import promotion_cases, promotion_cycles
from events.projections.timeline import timeline

ALL: tuple[Projection, ...] = (
    people,
    timeline,
    mentorships,
    rotations,
    ladders,
    promotion_cases,
    promotion_cycles,
)

__all__ = [
    "ALL",
    "Envelope",
    "Projection",
    "Row",
    "Workspace",
    "ladders",
    "mentorships",
    "people",
    "promotion_cases",
    "promotion_cycles",
    "replay",
    "rotations",
    "timeline",
]
