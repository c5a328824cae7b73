"""A person's career: state, evolve/fold, and the decisions that guard it.

The pieces live in small modules; this is the one place to import them from:

* ``domain.state`` -- ``PersonState``, ``evolve`` (never raises), ``fold``, ``state_on``;
* ``domain.career`` -- the derived ``Career`` view and its records;
* ``domain.rules`` -- ``decide`` for one person's stream;
* ``domain.ladder_versions`` -- ``decide_ladder`` and ``decide_level_mapping``;
* ``domain.corrections`` -- correcting and rescinding earlier facts;
* ``domain.mentoring`` -- ``decide_mentorship`` across the mentor's and mentee's streams.
"""

from __future__ import annotations

from domain.career import (
    ACTIVE,
    DEPARTED,
    UNKNOWN,
    Career,
    CareerFact,
    EmploymentPeriod,
    LevelChange,
    Mentorship,
    Rotation,
    Training,
    derive_career,
)
from domain.checks import DecisionContext
from domain.ladder_versions import decide_ladder, decide_level_mapping
from domain.mentoring import decide_mentorship
from domain.rules import decide
from domain.state import PersonState, evolve, fold, state_on

__all__ = [
    "ACTIVE",
    "DEPARTED",
    "UNKNOWN",
    "Career",
    "CareerFact",
    "DecisionContext",
    "EmploymentPeriod",
    "LevelChange",
    "Mentorship",
    "PersonState",
    "Rotation",
    "Training",
    "decide",
    "decide_ladder",
    "decide_level_mapping",
    "decide_mentorship",
    "derive_career",
    "evolve",
    "fold",
    "state_on",
]
