"""``promotionStats``: promotions per level per quarter, and the median time in a level
before a promotion out of it (``events.readmodels.queries.promotion_stats``). Rescinded
promotions do not count; corrected ones count as corrected."""

from __future__ import annotations

import strawberry

from api import loaders
from api.context import Info
from api.fields import field
from api.types.ladder import Level
from events.readmodels import views


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
    median_months: float = strawberry.field(
        description="The median, in months of 30.44 days, to one decimal."
    )

    @strawberry.field
    async def level(self, info: Info) -> Level | None:
        return await loaders.level(info.context, self.track, self.level_key)


@strawberry.type
class PromotionStats:
    by_quarter: list[QuarterPromotions]
    months_in_level: list[LevelTenure]

    @classmethod
    def from_view(cls, view: views.PromotionStats) -> PromotionStats:
        return cls(
            by_quarter=[
                QuarterPromotions(
                    quarter=q.quarter, track=q.track, level_key=q.level, promotions=q.promotions
                )
                for q in sorted(view.per_quarter, key=lambda q: (q.quarter, q.track, q.level))
            ],
            months_in_level=[
                LevelTenure(
                    track=t.track,
                    level_key=t.level,
                    promotions=t.promotions,
                    median_months=t.median_months,
                )
                for t in view.time_in_level
            ],
        )


@strawberry.type
class StatsQuery:
    @field(description="Promotion counts and median months in level before one.")
    async def promotion_stats(self, info: Info) -> PromotionStats:
        info.context.require_principal()
        return PromotionStats.from_view(
            await info.context.require_services().queries.promotion_stats()
        )
