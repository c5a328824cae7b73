"""Read-model lookups for the API's relations: mentorships, rotations, career timelines.

Like ``api_queries``: one SQL statement per batch of keys (the API's string ids), keyed by
those ids; the rows leave as the views ``queries`` returns. The paged lists of
mentorships and rotations are ``queries``' own (``list_mentorships``, ``list_rotations``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from events.readmodels import tables
from events.readmodels.api_queries import keys_of
from events.readmodels.queries import after_key, columns_of, count, fetch
from events.readmodels.views import MentorshipView, RotationView, TimelineEntry

TL = tables.timeline
M = tables.mentorships
R = tables.rotations
V = TypeVar("V")


async def _keyed(
    engine: AsyncEngine,
    build: Callable[[Mapping[str, Any]], V],
    columns: Sequence[sa.Column[Any]],
    key: sa.Column[Any],
    keys: Sequence[str],
    *criteria: sa.ColumnElement[bool],
    order_by: Sequence[sa.Column[Any]] = (),
) -> list[tuple[str, V]]:
    """``(key column, row)`` of the rows whose ``key`` is one of ``keys``: one statement."""
    if not keys:
        return []
    q = sa.select(*columns).where(key.in_(keys), *criteria).order_by(*order_by)
    return [(r[key.name], build(r)) for r in await fetch(engine, q)]


# -- mentorships ------------------------------------------------------------------------

_MENTORSHIP_COLUMNS = columns_of(M, MentorshipView)


async def active_mentorships_by_mentor(
    engine: AsyncEngine, mentor_ids: Sequence[str]
) -> dict[str, list[MentorshipView]]:
    """Mentor id -> their active mentorships, oldest first."""
    return await _active_mentorships(engine, M.c.mentor_id, mentor_ids)


async def active_mentorships_by_mentee(
    engine: AsyncEngine, mentee_ids: Sequence[str]
) -> dict[str, list[MentorshipView]]:
    """Mentee id -> their active mentorships (as mentee), oldest first."""
    return await _active_mentorships(engine, M.c.mentee_id, mentee_ids)


async def _active_mentorships(
    engine: AsyncEngine, column: sa.Column[Any], ids: Sequence[str]
) -> dict[str, list[MentorshipView]]:
    keys = keys_of(ids)
    found: dict[str, list[MentorshipView]] = {k: [] for k in keys}
    for person_id, row in await _keyed(
        engine,
        MentorshipView.from_row,
        _MENTORSHIP_COLUMNS,
        column,
        keys,
        M.c.active.is_(True),
        order_by=(M.c.started_on, M.c.mentorship_id),
    ):
        found[person_id].append(row)
    return found


async def mentorships_by_ids(
    engine: AsyncEngine, mentorship_ids: Sequence[str]
) -> dict[str, MentorshipView]:
    keys = keys_of(mentorship_ids)
    return dict(
        await _keyed(engine, MentorshipView.from_row, _MENTORSHIP_COLUMNS, M.c.mentorship_id, keys)
    )


# -- rotations --------------------------------------------------------------------------

_ROTATION_COLUMNS = columns_of(R, RotationView)


async def active_rotations(
    engine: AsyncEngine, person_ids: Sequence[str]
) -> dict[str, RotationView]:
    """Person id -> their active rotation (people without one are absent)."""
    keys = keys_of(person_ids)
    return dict(
        await _keyed(
            engine,
            RotationView.from_row,
            _ROTATION_COLUMNS,
            R.c.person_id,
            keys,
            R.c.active.is_(True),
            R.c.void.is_(False),
            order_by=(R.c.started_on,),
        )
    )


async def rotations_by_ids(
    engine: AsyncEngine, rotation_ids: Sequence[str]
) -> dict[str, RotationView]:
    keys = keys_of(rotation_ids)
    return dict(
        await _keyed(
            engine,
            RotationView.from_row,
            _ROTATION_COLUMNS,
            R.c.rotation_id,
            keys,
            R.c.void.is_(False),
        )
    )


# -- timeline ---------------------------------------------------------------------------


async def timelines(
    engine: AsyncEngine, person_ids: Sequence[str]
) -> dict[str, list[TimelineEntry]]:
    """Person id -> their career facts in effective order (then log order)."""
    keys = keys_of(person_ids)
    found: dict[str, list[TimelineEntry]] = {k: [] for k in keys}
    for person_id, row in await _keyed(
        engine,
        TimelineEntry.from_row,
        columns_of(TL, TimelineEntry),
        TL.c.person_id,
        keys,
        order_by=(TL.c.person_id, TL.c.effective_on, TL.c.position),
    ):
        found[person_id].append(row)
    return found


EXCEPTION_TYPES = ("PromotionRecorded", "PersonHired", "PersonRehired")
"""The facts that grant a level, so may carry an experience exception."""


async def experience_exceptions(
    engine: AsyncEngine,
    *,
    limit: int,
    after: tuple[date, int] | None = None,
) -> list[TimelineEntry]:
    """Standing promotions, hires and rehires recorded below the level's experience
    minimum, ordered by ``(effective_on, position)``; rescinded ones are left out."""
    q = _exceptions()
    order = (TL.c.effective_on, TL.c.position)
    if after is not None:
        q = q.where(after_key(order, after))
    rows = await fetch(engine, q.order_by(*order).limit(limit))
    return [TimelineEntry.from_row(r) for r in rows]


async def count_experience_exceptions(engine: AsyncEngine) -> int:
    """How many rows :func:`experience_exceptions` lists (all pages)."""
    return await count(engine, _exceptions())


def _exceptions() -> sa.Select[Any]:
    return sa.select(*columns_of(TL, TimelineEntry)).where(
        TL.c.type.in_(EXCEPTION_TYPES),
        TL.c.experience_exception.is_not(None),
        TL.c.rescinded_by.is_(None),
    )
