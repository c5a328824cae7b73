"""``promotionStats``: promotions per level per quarter, and the median time in a level
before a promotion out of it. Rescinded promotions do not count; corrected ones count as
corrected."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import strawberry

from api import loaders
from api.context import Info
from api.fields import field
from api.services import read_services
from api.types.ladder import Level
from domain.readiness import months_between
from events.readmodels.api_relations import TimelineRow

PROMOTION = "PromotionRecorded"


@strawberry.type(description="Promotions into one level in one calendar quarter.")
class QuarterPromotions:
    quarter: str = strawberry.field(description="`YYYY-Qn` of the effective date.")
    track: str
    level_key: str = strawberry.field(description="The level promoted to.")
    promotions: int

    @strawberry.field
    async def level(self, info: Info) -> Level | None:
        return await loaders.level(info.context, self.track, self.level_key)


@strawberry.type(description="How long people stayed in a level before being promoted out.")
class LevelTenure:
    track: str
    level_key: str = strawberry.field(description="The level promoted from.")
    promotions: int
    median_months: float

    @strawberry.field
    async def level(self, info: Info) -> Level | None:
        return await loaders.level(info.context, self.track, self.level_key)


@strawberry.type
class PromotionStats:
    by_quarter: list[QuarterPromotions]
    months_in_level: list[LevelTenure]


@dataclass
class _Tally:
    per_quarter: dict[tuple[str, str, str], int]
    months: dict[tuple[str, str], list[int]]


def tally(rows: Sequence[TimelineRow]) -> _Tally:
    """Count promotions from level-setting facts in person, then effective, order."""
    result = _Tally({}, {})
    previous: TimelineRow | None = None
    for row in rows:
        if previous is not None and previous.person_id != row.person_id:
            previous = None
        if row.type == PROMOTION and row.track and row.level:
            quarter = f"{row.effective_on.year}-Q{(row.effective_on.month - 1) // 3 + 1}"
            key = (quarter, row.track, row.level)
            result.per_quarter[key] = result.per_quarter.get(key, 0) + 1
            if previous is not None and row.from_level:
                months = months_between(previous.effective_on, row.effective_on)
                result.months.setdefault((row.track, row.from_level), []).append(months)
        previous = row
    return result


@strawberry.type
class StatsQuery:
    @field(description="Promotion counts and median months in level before one.")
    async def promotion_stats(self, info: Info) -> PromotionStats:
        info.context.require_principal()
        counted = tally(await read_services(info.context).queries.level_changes())
        return PromotionStats(
            by_quarter=[
                QuarterPromotions(quarter=q, track=t, level_key=lv, promotions=n)
                for (q, t, lv), n in sorted(counted.per_quarter.items())
            ],
            months_in_level=[
                LevelTenure(
                    track=t,
                    level_key=lv,
                    promotions=len(months),
                    median_months=float(statistics.median(months)),
                )
                for (t, lv), months in sorted(counted.months.items())
            ],
        )
