"""``Mentorship``: a mentor and a mentee working on goals, and the ``mentorships`` list."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, ClassVar

import strawberry

from api import loaders
from api.context import Context, Info
from api.fields import field
from api.relay import node_resolver
from api.scopes import OptionalPersonIdArg, can_see, parse_id_text, visible_people
from api.types.connection import Connection, connection, decode_cursor, page_size
from api.types.node import Node
from events.readmodels.queries import MentorshipFilter
from events.readmodels.views import MentorshipView

if TYPE_CHECKING:
    from api.types.person import Person

MENTORSHIPS = "mentorships"
LazyPerson = Annotated["Person", strawberry.lazy("api.types.person")]


@strawberry.type(description="A mentorship, active or past.")
class Mentorship(Node):
    node_type: ClassVar[str] = "Mentorship"

    mentorship_id: strawberry.ID
    goals: list[str]
    reverse: bool = strawberry.field(description="The mentor does not rank above the mentee.")
    started_on: date
    ended_on: date | None
    outcome: str | None
    active: bool
    _mentor_id: strawberry.Private[str]
    _mentee_id: strawberry.Private[str]

    def raw_id(self) -> str:
        return str(self.mentorship_id)

    @classmethod
    def from_row(cls, row: MentorshipView) -> Mentorship:
        return cls(
            mentorship_id=strawberry.ID(str(row.mentorship_id)),
            goals=list(row.goals),
            reverse=row.reverse,
            started_on=row.started_on,
            ended_on=row.ended_on,
            outcome=row.outcome,
            active=row.active,
            _mentor_id=str(row.mentor_id),
            _mentee_id=str(row.mentee_id),
        )

    @field(description="The mentor; null if not visible to you.")
    async def mentor(self, info: Info) -> LazyPerson | None:
        from api.types.person import person_or_none

        return await person_or_none(info.context, self._mentor_id)

    @field(description="The mentee; null if not visible to you.")
    async def mentee(self, info: Info) -> LazyPerson | None:
        from api.types.person import person_or_none

        return await person_or_none(info.context, self._mentee_id)


@strawberry.type
class MentorshipQuery:
    @field(description="Mentorships involving people you may see, oldest start first.")
    async def mentorships(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        mentor_id: OptionalPersonIdArg = None,
        mentee_id: OptionalPersonIdArg = None,
        active: bool | None = None,
    ) -> Connection[Mentorship]:
        context = info.context
        visible = await visible_people(context)
        limit = page_size(first, context.settings)
        key = decode_cursor(MENTORSHIPS, after, (date, str))
        filters = MentorshipFilter(
            mentor_id=None if mentor_id is None else parse_id_text(mentor_id, field="mentorId"),
            mentee_id=None if mentee_id is None else parse_id_text(mentee_id, field="menteeId"),
            active=active,
            involving=visible,
        )
        rows = await context.require_services().queries.list_mentorships(
            filters,
            limit=limit + 1,
            after=None if key is None else (date.fromisoformat(str(key[0])), str(key[1])),
        )
        return connection(
            rows,
            kind=MENTORSHIPS,
            limit=limit,
            after=after,
            key=lambda r: list(r.sort_key),
            node=Mentorship.from_row,
            total=lambda: context.require_services().queries.count_mentorships(filters),
        )


@node_resolver("Mentorship")
async def _mentorship_node(context: Context, raw_id: str) -> Mentorship | None:
    context.require_principal()
    row = await loaders.mentorships(context).load(
        parse_id_text(raw_id, type_name="Mentorship", field="id")
    )
    if row is None:
        return None
    if not (
        await can_see(context, str(row.mentor_id)) or await can_see(context, str(row.mentee_id))
    ):
        return None
    return Mentorship.from_row(row)
