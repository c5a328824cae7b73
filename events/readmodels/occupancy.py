"""Who is on which level of a track now, from the people read model."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.career import ACTIVE
from events.readmodels import tables
from events.readmodels.queries import fetch

P = tables.people


async def people_on_levels(engine: AsyncEngine, track: str, levels: Sequence[str]) -> list[UUID]:
    """Ids of the active people on one of ``levels`` of ``track``, in id order."""
    if not levels:
        return []
    q = (
        sa.select(P.c.person_id)
        .where(P.c.status == ACTIVE, P.c.track == track, P.c.level.in_(sorted(levels)))
        .order_by(P.c.person_id)
    )
    return [UUID(str(r["person_id"])) for r in await fetch(engine, q)]
