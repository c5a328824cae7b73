"""The org chart on a given day, from the timeline read model.

Who reported to whom on a day is not in the people read model (it holds the latest
values); the timeline holds every hire, rehire, change of manager and departure with its
effective date, corrections applied and rescinds marked, so one statement gives the chart
of any day.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from events.readmodels import tables
from events.readmodels.queries import fetch

T = tables.timeline
CHART_TYPES = ("PersonHired", "PersonRehired", "ManagerChanged", "PersonDeparted")
"""The facts that say whether someone is employed and who manages them."""


async def managers_on(engine: AsyncEngine, on: date) -> dict[str, str | None]:
    """Everyone employed on ``on`` (a departure's day is its last day of employment) and
    their manager that day (None for none), by person id."""
    q = (
        sa.select(T.c.person_id, T.c.type, T.c.effective_on, T.c.data)
        .where(T.c.type.in_(CHART_TYPES), T.c.effective_on <= on, T.c.rescinded_by.is_(None))
        .order_by(T.c.person_id, T.c.effective_on, T.c.position)
    )
    employed: dict[str, bool] = {}
    manager: dict[str, str | None] = {}
    for row in await fetch(engine, q):
        person = str(row["person_id"])
        if row["type"] == "PersonDeparted":
            employed[person] = row["effective_on"] >= on
            continue
        if row["type"] != "ManagerChanged":
            employed[person] = True
        found = row["data"].get("manager_id")
        manager[person] = None if found is None else str(found)
    return {person: manager.get(person) for person, now in employed.items() if now}
