"""``levelCensus(asOf)``: active headcount per level.

Without ``asOf`` it is read from the people read model; with it, replayed from the log
(every person's career as effective on that day).
"""

from __future__ import annotations

from datetime import date

import strawberry

from api import loaders
from api.context import Info
from api.fields import field
from api.services import read_services
from api.types.ladder import Level


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
    as_of: date | None = strawberry.field(description="Null: now, from the read model.")
    total: int
    levels: list[LevelHeadcount] = strawberry.field(description="By track, then level key.")


@strawberry.type
class CensusQuery:
    @field(description="Active headcount per level, now or on `asOf` (from the log).")
    async def level_census(
        self, info: Info, as_of: date | None = None, track: str | None = None
    ) -> LevelCensus:
        info.context.require_principal()
        counts = await read_services(info.context).queries.level_census(as_of)
        levels = [
            LevelHeadcount(track=t, level_key=lv, headcount=n)
            for (t, lv), n in sorted(counts.items())
            if track is None or t == track
        ]
        return LevelCensus(as_of=as_of, total=sum(x.headcount for x in levels), levels=levels)
