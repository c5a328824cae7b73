"""``levelCensus(asOf, knownAt)``: active headcount per level.

Without arguments it is read from the people read model (as of today); with ``asOf``
and/or ``knownAt`` it is replayed from the log (``events.timetravel.census_as_of``): every
person's career as effective on ``asOf`` (default today), as recorded by ``knownAt``.
"""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from api import loaders
from api.context import Info
from api.fields import field
from api.types.ladder import Level
from events.readmodels.views import utc


@strawberry.type(description="How many active people hold one level.")
class LevelHeadcount:
    track: str
    level_key: str
    headcount: int

    @strawberry.field
    async def level(self, info: Info) -> Level | None:
        return await loaders.level(info.context, self.track, self.level_key)


@strawberry.type(description="Active headcount per level on a day.")
class LevelCensus:
    as_of: date | None = strawberry.field(description="Null: today.")
    known_at: datetime | None = strawberry.field(description="Null: everything recorded.")
    total: int
    levels: list[LevelHeadcount] = strawberry.field(description="By track, then level key.")


@strawberry.type
class CensusQuery:
    @field(
        description="Active headcount per level: today from the read model, or on `asOf` "
        "as recorded by `knownAt`, replayed from the log."
    )
    async def level_census(
        self,
        info: Info,
        as_of: date | None = None,
        known_at: datetime | None = None,
        track: str | None = None,
    ) -> LevelCensus:
        info.context.require_principal()
        known = None if known_at is None else utc(known_at)
        counts = await info.context.require_services().queries.level_census(as_of, known)
        levels = [
            LevelHeadcount(track=t, level_key=lv, headcount=n)
            for (t, lv), n in sorted(counts.items())
            if track is None or t == track
        ]
        total = sum(x.headcount for x in levels)
        return LevelCensus(as_of=as_of, known_at=known, total=total, levels=levels)
