"""``Rotation``: a stint on another team, and the ``rotations`` list."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, ClassVar

import strawberry

from api import loaders
from api.context import Context, Info
from api.fields import field
from api.relay import node_resolver
from api.scopes import InvalidArgument, OptionalPersonIdArg, can_see, parse_id_text, visible_people
from api.types.connection import Connection, connection, decode_cursor, page_size
from api.types.node import Node
from events.readmodels.queries import RotationFilter
from events.readmodels.views import RotationView

if TYPE_CHECKING:
    from api.types.person import Person

ROTATIONS = "rotations"
MAX_ENDING_WITHIN_DAYS = 3660


@strawberry.type(description="A role rotation: time on a host team to grow in one area.")
class Rotation(Node):
    node_type: ClassVar[str] = "Rotation"

    rotation_id: strawberry.ID
    host_team: str
    development_area: str
    started_on: date
    planned_end_on: date
    ended_on: date | None
    outcome: str | None
    active: bool
    _person_id: strawberry.Private[str]

    def raw_id(self) -> str:
        return str(self.rotation_id)

    @classmethod
    def from_row(cls, row: RotationView) -> Rotation:
        return cls(
            rotation_id=strawberry.ID(str(row.rotation_id)),
            host_team=row.host_team,
            development_area=row.development_area,
            started_on=row.started_on,
            planned_end_on=row.planned_end_on,
            ended_on=row.ended_on,
            outcome=row.outcome,
            active=row.active,
            _person_id=str(row.person_id),
        )

    @field(description="Running past its planned end (not ended yet) today.")
    def overdue(self, info: Info) -> bool:
        return self.active and self.planned_end_on < info.context.require_services().today()

    @field(description="Who rotates; null if not visible to you.")
    async def person(
        self, info: Info
    ) -> Annotated[Person, strawberry.lazy("api.types.person")] | None:
        from api.types.person import person_or_none

        return await person_or_none(info.context, self._person_id)


@strawberry.type
class RotationQuery:
    @field(
        description="Rotations of the people you may see, oldest start first. "
        "`endingWithinDays` keeps active rotations planned to end within that many days."
    )
    async def rotations(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        person_id: OptionalPersonIdArg = None,
        active: bool | None = None,
        ending_within_days: int | None = None,
    ) -> Connection[Rotation]:
        context = info.context
        visible = await visible_people(context)
        limit = page_size(first, context.settings)
        key = decode_cursor(ROTATIONS, after, (date, str))
        services = context.require_services()
        ending_by = None
        if ending_within_days is not None:
            if not 0 <= ending_within_days <= MAX_ENDING_WITHIN_DAYS:
                raise InvalidArgument(
                    f"endingWithinDays must be between 0 and {MAX_ENDING_WITHIN_DAYS}.",
                    field="endingWithinDays",
                )
            ending_by = services.today() + timedelta(days=ending_within_days)
        filters = RotationFilter(
            person_id=None if person_id is None else parse_id_text(person_id),
            active=active,
            ending_by=ending_by,
            visible_to=visible,
        )
        rows = await services.queries.list_rotations(
            filters,
            limit=limit + 1,
            after=None if key is None else (date.fromisoformat(str(key[0])), str(key[1])),
        )
        return connection(
            rows,
            kind=ROTATIONS,
            limit=limit,
            after=after,
            key=lambda r: list(r.sort_key),
            node=Rotation.from_row,
            total=lambda: services.queries.count_rotations(filters),
        )


@node_resolver("Rotation")
async def _rotation_node(context: Context, raw_id: str) -> Rotation | None:
    context.require_principal()
    row = await loaders.rotations(context).load(
        parse_id_text(raw_id, type_name="Rotation", field="id")
    )
    if row is None or not await can_see(context, str(row.person_id)):
        return None
    return Rotation.from_row(row)
