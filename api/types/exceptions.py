"""``experienceExceptions``: standing promotions, hires and rehires granted below the
level's experience minimum, with the recorded reason. For ``hr`` and ``auditor``."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry

from api import loaders
from api.context import Info
from api.fields import field
from api.scopes import require_auditor
from api.types.career import CareerEvent
from api.types.connection import Connection, connection, decode_cursor, page_size
from api.types.ladder import Level
from events.readmodels.views import TimelineEntry

if TYPE_CHECKING:
    from api.types.person import Person

EXCEPTIONS = "experienceExceptions"


@strawberry.type(
    description="A promotion, hire or rehire recorded below the level's experience minimum."
)
class ExperienceException:
    reason: str
    effective_on: date
    promotion: CareerEvent = strawberry.field(
        description="The fact that granted the level: a promotion, hire or rehire "
        "(its `type` says which)."
    )
    _person_id: strawberry.Private[str]
    _track: strawberry.Private[str | None]
    _level: strawberry.Private[str | None]

    @strawberry.field
    async def person(
        self, info: Info
    ) -> Annotated[Person, strawberry.lazy("api.types.person")] | None:
        from api.types.person import person_or_none

        return await person_or_none(info.context, self._person_id)

    @field(description="The level granted.")
    async def to_level(self, info: Info) -> Level | None:
        return await loaders.level(info.context, self._track, self._level)

    @classmethod
    def from_row(cls, row: TimelineEntry) -> ExperienceException:
        return cls(
            reason=row.experience_exception or "",
            effective_on=row.effective_on,
            promotion=CareerEvent.from_timeline(row),
            _person_id=str(row.person_id),
            _track=row.track,
            _level=row.level,
        )


@strawberry.type
class ExceptionsQuery:
    @field(description="Promotions, hires and rehires below the experience minimum, oldest first.")
    async def experience_exceptions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ExperienceException]:
        context = info.context
        require_auditor(context, "experience exceptions")
        limit = page_size(first, context.settings)
        key = decode_cursor(EXCEPTIONS, after, (date, int))
        rows = await context.require_services().queries.experience_exceptions(
            limit=limit + 1,
            after=None if key is None else (date.fromisoformat(str(key[0])), int(key[1])),
        )
        return connection(
            rows,
            kind=EXCEPTIONS,
            limit=limit,
            after=after,
            key=lambda r: [r.effective_on.isoformat(), r.position],
            node=ExperienceException.from_row,
            total=context.require_services().queries.count_experience_exceptions,
        )
