"""What the spreadsheet exports read (``ladder export-roster`` and ``ladder export-history``).

No query of its own: the roster is ``api_queries.list_people`` (what GraphQL's ``people``
serves) paged to the end, each person's readiness from ``queries.readiness_of`` (the
rules of the ``ready`` filter), and the history is
``api_relations.timelines`` (what ``Person.timeline`` serves). Rows come in pages, in the
roster's order (name, then id), so an export of any size holds one page in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.ladder import Ladder
from events.readmodels import api_queries, api_relations, queries
from events.readmodels.api_queries import PeopleFilter, PeopleKey
from events.readmodels.views import PersonView, ReadinessView, TimelineEntry

PAGE = 500
"""People per page (one ``list_people`` statement each)."""

EVERYONE = date.max
"""The day to list everyone the people read model knows, hires effective later included."""


@dataclass(frozen=True, slots=True)
class RosterLine:
    """One person on the roster as effective on ``as_of``."""

    person: PersonView
    ladder: Ladder | None
    """The current ladder of the person's track (titles and readiness come from it)."""
    readiness: ReadinessView
    as_of: date

    @property
    def level_title(self) -> str | None:
        if self.ladder is None or not self.ladder.has_level(self.person.level):
            return None
        return self.ladder.level(self.person.level).title


async def _pages(
    engine: AsyncEngine, filters: PeopleFilter, on: date
) -> AsyncIterator[list[PersonView]]:
    after: PeopleKey | None = None
    while True:
        entries = await api_queries.list_people(engine, filters, limit=PAGE, today=on, after=after)
        if entries:
            yield [e.person for e in entries]
        if len(entries) < PAGE:
            return
        after = entries[-1].key


async def roster(
    engine: AsyncEngine, *, as_of: date, filters: PeopleFilter | None = None
) -> AsyncIterator[list[RosterLine]]:
    """Everyone ``list_people`` lists on ``as_of`` (by name, then id), page by page."""
    known = await queries.ladders(engine)
    async for page in _pages(engine, filters or PeopleFilter(), as_of):
        lines: list[RosterLine] = []
        for person in page:
            ladder = queries.ladder_of(known, person.track)
            ready = queries.readiness_of(person, ladder, as_of)
            lines.append(RosterLine(person, ladder, ready, as_of))
        yield lines


@dataclass(frozen=True, slots=True)
class HistoryLine:
    person: PersonView
    event: TimelineEntry


async def history(
    engine: AsyncEngine, person_ids: Sequence[str] | None = None
) -> AsyncIterator[list[HistoryLine]]:
    """The career facts of ``person_ids`` (None: of everyone), person by person in roster
    order, each person's in effective order then log order, rescinded ones included."""
    only = None if person_ids is None else frozenset(person_ids)
    async for page in _pages(engine, PeopleFilter(only_ids=only), EVERYONE):
        found = await api_relations.timelines(engine, [p.person_id for p in page])
        yield [HistoryLine(p, e) for p in page for e in found.get(p.person_id, [])]
