"""Who uses an email address, from the people read model (case-insensitive)."""

from __future__ import annotations

from functools import cache
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from events.readmodels import tables
from events.readmodels.queries import fetch

P = tables.people


@cache
def _with_email() -> sa.Select[Any]:
    """The statement, built once (every hire asks it): the address is bound per call."""
    return sa.select(P.c.person_id).where(sa.func.lower(P.c.email) == sa.bindparam("email"))


async def people_with_email(engine: AsyncEngine, email: str) -> set[UUID]:
    """Ids of the people whose email is ``email``, ignoring case."""
    rows = await fetch(engine, _with_email(), {"email": email.strip().lower()})
    return {UUID(str(r["person_id"])) for r in rows}
