"""Roster pages kept while the read models they were read from have not moved.

A page of ``list_people`` is a pure function of the people and ladders read models (and of
its filters, size, cursor, order and day). Each projection's checkpoint says how far into
the log its table is: while both checkpoints are where they were when a page was read, the
same statement would return the same rows, so the page is served again after one index
lookup of the two checkpoints instead of the statement and its rows. Every write that
changes a person or a ladder moves its projection's checkpoint in the write's own
transaction (inline projection) or when the projector catches up, in this process or any
other, so a kept page is never older than the read models.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from events.readmodels import tables
from events.readmodels.api_queries import (
    PeopleFilter,
    PeopleKey,
    PeopleOrder,
    RosterEntry,
    list_people,
)
from events.readmodels.queries import fetch

SOURCES = ("people", "ladders")
"""The projections a roster page is read from."""
KEPT_PAGES = 256
"""Pages :class:`Rosters` keeps (the most recently read)."""

C = tables.checkpoints


@cache
def _marks() -> sa.Select[Any]:
    """The checkpoint positions of the sources (built once)."""
    return sa.select(C.c.name, C.c.position).where(C.c.name.in_(SOURCES)).order_by(C.c.name)


async def marks(engine: AsyncEngine) -> tuple[tuple[str, int], ...]:
    """Where the roster's read models are in the log (one point read)."""
    rows = await fetch(engine, _marks(), point=True)
    return tuple((str(r["name"]), int(r["position"])) for r in rows)


PageKey = tuple[PeopleFilter, int, PeopleKey | None, PeopleOrder, date]


class Rosters:
    """``list_people`` with the last pages read kept (see the module's docstring)."""

    def __init__(self, engine: AsyncEngine, kept: int = KEPT_PAGES) -> None:
        self.engine = engine
        self.kept = kept
        self._pages: OrderedDict[PageKey, tuple[tuple[tuple[str, int], ...], list[RosterEntry]]]
        self._pages = OrderedDict()

    async def list_people(
        self,
        filters: PeopleFilter,
        *,
        limit: int,
        today: date,
        after: PeopleKey | None = None,
        order: PeopleOrder = PeopleOrder.NAME,
    ) -> list[RosterEntry]:
        at = await marks(self.engine)
        key: PageKey = (filters, limit, after, order, today)
        found = self._pages.get(key)
        if found is not None and found[0] == at:
            self._pages.move_to_end(key)
            return list(found[1])
        page = await list_people(
            self.engine, filters, limit=limit, today=today, after=after, order=order
        )
        self._pages[key] = (at, page)
        self._pages.move_to_end(key)
        if len(self._pages) > self.kept:
            self._pages.popitem(last=False)
        return list(page)
