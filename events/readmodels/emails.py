"""Who uses an email address, from the people read model (case-insensitive)."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from events.readmodels import tables
from events.readmodels.queries import fetch

P = tables.people


async def people_with_email(engine: AsyncEngine, email: str) -> set[UUID]:
    """Ids of the people whose email is ``email``, ignoring case."""
    q = sa.select(P.c.person_id).where(sa.func.lower(P.c.email) == email.strip().lower())
    return {UUID(str(r["person_id"])) for r in await fetch(engine, q)}
