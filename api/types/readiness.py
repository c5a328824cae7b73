"""``PromotionReadiness``: what a person has and still misses for the next level.

Read from the people read model (``events.readmodels.queries.readiness_of``: the domain's
rules on the row's columns; a property test holds it to ``domain.readiness``), against the
current ladder of their track, as of today.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry

from api import loaders
from api.context import Context, Info
from api.fields import field
from api.scopes import NotFound, PersonIdArg, can_see, parse_id_text, require_person
from api.types.ladder import Level
from events.readmodels.queries import readiness_of as readiness_view

if TYPE_CHECKING:
    from api.types.person import Person


@strawberry.type(description="Readiness for the next level, as of `asOf`.")
class PromotionReadiness:
    person_id: strawberry.ID
    as_of: date
    next_level: Level | None = strawberry.field(
        description="Null at the top of the ladder, or for someone not active."
    )
    ready: bool = strawberry.field(description="A next level exists and nothing is missing.")
    experience_met: bool
    years_of_experience: float
    months_in_level: int
    mentorship_done: bool
    rotation_done: bool
    training_done: bool
    missing: list[str] = strawberry.field(
        description="Still missing, from `experience`, `leadership_experience` (when the next "
        "level requires it), `mentorship`, `role_rotation`, `leadership_training`, "
        "`performance_and_impact`."
    )
    rotation_overdue: bool = strawberry.field(
        description="The current rotation is past its planned end and not ended yet."
    )
    impact_done: bool = strawberry.field(
        description="A training completed or a rotation ended at this level in a development "
        "area of the ladder's `performance_and_impact` group."
    )

    @field(description="The person; null if not visible to you.")
    async def person(
        self, info: Info
    ) -> Annotated[Person, strawberry.lazy("api.types.person")] | None:
        from api.types.person import person_or_none

        return await person_or_none(info.context, str(self.person_id))


async def readiness_of(context: Context, person_id: str) -> PromotionReadiness | None:
    """``None`` for an unknown person, one without a hire, or out of the caller's reach."""
    if not await can_see(context, person_id):
        return None
    person = await loaders.people(context).load(person_id)
    if person is None:
        return None
    ladder = await loaders.ladders(context).load(person.track)
    if ladder is None:
        return None
    today = context.require_services().today()
    found = readiness_view(person, ladder, today)
    return PromotionReadiness(
        person_id=strawberry.ID(person_id),
        as_of=today,
        next_level=None if found.next_level is None else Level.of(ladder, found.next_level),
        ready=found.ready,
        experience_met=found.experience_met,
        years_of_experience=round(found.years_of_experience, 2),
        months_in_level=found.months_in_level,
        mentorship_done=found.mentorship_done,
        rotation_done=found.rotation_done,
        training_done=found.training_done,
        missing=list(found.missing),
        rotation_overdue=found.rotation_overdue,
        impact_done=found.impact_done,
    )


@strawberry.type
class ReadinessQuery:
    @field(description="What a person still needs for the next level, as of today.")
    async def promotion_readiness(self, info: Info, person_id: PersonIdArg) -> PromotionReadiness:
        raw = parse_id_text(person_id)
        await require_person(info.context, raw)
        found = await readiness_of(info.context, raw)
        if found is None:
            raise NotFound("No such person.", field="personId")
        return found
