"""``Person``: one employee as the people read model has them, and ``person``/``people``.

Related objects (level, manager, mentees, mentor, rotation, timeline) come through the
request's DataLoaders, so lists of people stay at a fixed number of SQL statements. A
related person the caller may not read is ``null`` (or left out of a list).
"""

from __future__ import annotations

import asyncio
import enum
from datetime import date, datetime
from typing import Annotated, ClassVar

import strawberry

from api import loaders
from api.context import Context, Info
from api.fields import field
from api.relay import node_resolver
from api.scopes import InvalidArgument, PersonIdArg, can_see, parse_id_text, visible_people
from api.types.career import CareerEvent, CareerHistory, history_or_none
from api.types.connection import Connection, connection, decode_cursor, page_size
from api.types.ladder import Level
from api.types.node import Node
from api.types.readiness import PromotionReadiness, readiness_of
from api.types.rotation import Rotation
from domain.ladder import Ladder
from domain.org_chart import reports_in
from domain.readiness import MISSING_KEYS
from events.readmodels.api_queries import PeopleFilter, PeopleKey
from events.readmodels.api_queries import PeopleOrder as PeopleSort
from events.readmodels.views import PersonView


@strawberry.enum(description="Whether a person works here now.")
class PersonStatus(enum.Enum):
    ACTIVE = "active"
    DEPARTED = "departed"


_STATUSES = {status.value: status for status in PersonStatus}
"""A stored status -> its enum member (a dict lookup: ``PersonStatus(value)`` costs ten)."""


@strawberry.type(description="A person on a career ladder.")
class Person(Node):
    node_type: ClassVar[str] = "Person"

    person_id: strawberry.ID = strawberry.field(description="The person's UUID.")
    name: str
    email: str
    track: str
    level_key: str = strawberry.field(description="Key of the current level.")
    status: PersonStatus
    hired_on: date = strawberry.field(description="The first hire date.")
    departed_on: date | None
    active_mentee_count: int = strawberry.field(description="Active mentorships as mentor.")
    erased: bool = strawberry.field(
        description="Their personal data was erased (`erasePersonalData`): `name`, `email` "
        "and the free text of their events read as empty; levels and dates stay.",
    )
    _row: strawberry.Private[PersonView]
    _ladder: strawberry.Private[Ladder | None]

    def raw_id(self) -> str:
        return str(self.person_id)

    @classmethod
    def from_row(cls, row: PersonView, ladder: Ladder | None) -> Person:
        """``ladder`` is the current ladder of the person's track (it gives ``level``)."""
        return cls(
            person_id=strawberry.ID(row.person_id),
            name=row.name,
            email=row.email,
            track=row.track,
            level_key=row.level,
            status=_STATUSES[row.status],
            hired_on=row.hired_on,
            departed_on=row.departed_on,
            active_mentee_count=row.active_mentees,
            erased=row.erased,
            _row=row,
            _ladder=ladder,
        )

    @field(description="The current level, from the track's current ladder.")
    def level(self) -> Level | None:
        # Resolved synchronously: the ladder came with the row (one batch per request).
        ladder = self._ladder
        return None if ladder is None else Level.of(ladder, self.level_key)

    @field(description="The current manager; null if none or not visible to you.")
    async def manager(self, info: Info) -> Person | None:
        manager_id = self._row.manager_id
        return None if manager_id is None else await person_or_none(info.context, manager_id)

    @field(
        description="Years of experience on `asOf` (default today): prior years plus time "
        "employed up to that day, without time away, for people who left and came back too "
        "(the same figure as `careerHistory(asOf:)`, readiness and `ladder replay`)."
    )
    async def years_of_experience(self, info: Info, as_of: date | None = None) -> float:
        services = info.context.require_services()
        on = as_of or services.today()
        if self._row.experience_exact_on(on):
            return round(self._row.years_of_experience(on), 2)
        # A day before the current employment (or before a departure): only the log has
        # the employment periods.
        history = await services.queries.career_history(self.raw_id(), as_of=None, known_at=None)
        if history is None:
            return round(self._row.years_of_experience(on), 2)
        return round(history.career.years_of_experience(on), 2)

    @field(description="Days since the current level took effect.")
    def days_in_level(self, info: Info) -> int:
        return self._row.days_in_level(info.context.require_services().today())

    @field(description="The rotation running now, if any.")
    async def active_rotation(self, info: Info) -> Rotation | None:
        row = await loaders.active_rotation(info.context).load(self.raw_id())
        return None if row is None else Rotation.from_row(row)

    @field(description="The people this person mentors now (those you may see).")
    async def mentees(self, info: Info) -> list[Person]:
        rows = await loaders.mentored_by(info.context).load(self.raw_id())
        found = await asyncio.gather(
            *(person_or_none(info.context, str(m.mentee_id)) for m in rows)
        )
        return [p for p in found if p is not None]

    @field(description="This person's current mentor; null if none or not visible.")
    async def mentor(self, info: Info) -> Person | None:
        rows = await loaders.mentoring(info.context).load(self.raw_id())
        return None if not rows else await person_or_none(info.context, str(rows[0].mentor_id))

    @field(description="Career facts in effective order, with correction marks.")
    async def timeline(self, info: Info) -> list[CareerEvent]:
        rows = await loaders.timeline(info.context).load(self.raw_id())
        return [CareerEvent.from_timeline(row) for row in rows]

    @field(
        description="The career as effective on `asOf` and as recorded by `knownAt`, "
        "computed from the log (see `Query.careerHistory`); null when the person was not yet "
        "hired on `asOf` (or the log knew no hire of theirs at `knownAt`)."
    )
    async def career_history(
        self, info: Info, as_of: date | None = None, known_at: datetime | None = None
    ) -> CareerHistory | None:
        return await history_or_none(info.context, self.raw_id(), as_of, known_at)

    @field(
        description="The people reporting directly to this person on `asOf` (default "
        "today): employed that day, those you may see, by id."
    )
    async def direct_reports(self, info: Info, as_of: date | None = None) -> list[Person]:
        return await people_below(info.context, self.raw_id(), 1, as_of)

    @field(
        description="The people below this person on `asOf` (default today), down to "
        "`depth` levels (1: direct reports; null: everyone below), employed that day, those "
        "you may see; nearest first, then by id."
    )
    async def reports(
        self, info: Info, depth: int | None = None, as_of: date | None = None
    ) -> list[Person]:
        if depth is not None and depth < 1:
            raise InvalidArgument("depth must be 1 or more (or null for all).", field="depth")
        return await people_below(info.context, self.raw_id(), depth, as_of)

    @field(description="What stands between this person and the next level.")
    async def readiness(self, info: Info) -> PromotionReadiness | None:
        return await readiness_of(info.context, self.raw_id())


async def person_or_none(context: Context, person_id: str) -> Person | None:
    """The person, or ``None`` when unknown or out of the caller's reach."""
    if not await can_see(context, person_id):
        return None
    row = await loaders.people(context).load(person_id)
    if row is None:
        return None
    return Person.from_row(row, await loaders.ladders(context).load(row.track))


async def people_below(
    context: Context, manager_id: str, depth: int | None, as_of: date | None
) -> list[Person]:
    """The people below ``manager_id`` on ``as_of`` (default today) whom the caller may see."""
    on = as_of or context.require_services().today()
    chart = await loaders.org_chart(context).load(on)
    found = await asyncio.gather(
        *(person_or_none(context, p) for p in reports_in(chart, manager_id, depth))
    )
    return [p for p in found if p is not None]


@strawberry.enum(
    description="Sort orders of `people`, each ending on the person's id: `NAME` (the "
    "default); `LEVEL`, most senior first (rank in the track's current ladder), then by name; "
    "`HIRED_ON`, earliest hire first; `TIME_IN_LEVEL`, longest in their current level first."
)
class PeopleOrder(enum.Enum):
    NAME = "name"
    LEVEL = "level"
    HIRED_ON = "hired_on"
    TIME_IN_LEVEL = "time_in_level"


PEOPLE = "people"
_CURSORS: dict[PeopleSort, tuple[str, tuple[type, ...]]] = {
    # NAME keeps the cursors of the days before sort orders; each order has its own kind,
    # so a cursor of one order is refused by another.
    PeopleSort.NAME: (PEOPLE, (str, str)),
    PeopleSort.LEVEL: ("people-level", (int, str, str)),
    PeopleSort.HIRED_ON: ("people-hired", (date, str)),
    PeopleSort.TIME_IN_LEVEL: ("people-in-level", (date, str)),
}


def _from_cursor(key: list[str | int], shape: tuple[type, ...]) -> PeopleKey:
    return tuple(
        date.fromisoformat(str(v)) if t is date else v for v, t in zip(key, shape, strict=True)
    )


def _to_cursor(key: PeopleKey) -> list[str | int]:
    return [v.isoformat() if isinstance(v, date) else v for v in key]


@strawberry.type
class PersonQuery:
    @field(description="A person by ID (global ID or UUID); null if unknown or not yours to see.")
    async def person(self, info: Info, id: PersonIdArg) -> Person | None:
        info.context.require_principal()
        return await person_or_none(info.context, parse_id_text(id, field="id"))

    @field(description="People you may see, in `orderBy` order, with keyset pagination.")
    async def people(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        track: str | None = None,
        level: str | None = None,
        status: PersonStatus | None = None,
        search: str | None = None,
        manager_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Only people reporting to them on `asOf`: directly, or at any "
                "depth with `allReports: true`."
            ),
        ] = None,
        as_of: Annotated[
            date | None,
            strawberry.argument(description="The day `managerId` is judged on (default today)."),
        ] = None,
        all_reports: Annotated[
            bool,
            strawberry.argument(
                description="With `managerId`: everyone below them, not only direct reports."
            ),
        ] = False,
        ready: Annotated[
            bool | None,
            strawberry.argument(
                description="Only people ready (true) or not ready (false) for their next "
                "level today, as `readiness { ready }` says; people at the top of their "
                "ladder or not active are never ready."
            ),
        ] = None,
        missing: Annotated[
            str | None,
            strawberry.argument(
                description="Only people whose readiness for their next level still misses "
                "this key (one of `readiness { missing }`: `experience`, "
                "`leadership_experience`, `mentorship`, `role_rotation`, "
                "`leadership_training`, `performance_and_impact`): a development-area gap."
            ),
        ] = None,
        order_by: Annotated[
            PeopleOrder | None,
            strawberry.argument(
                description="The sort order (default `NAME`); a cursor is valid for its own."
            ),
        ] = None,
    ) -> Connection[Person]:
        context = info.context
        if missing is not None and missing not in MISSING_KEYS:
            raise InvalidArgument(
                f"missing must be one of {', '.join(MISSING_KEYS)}.", field="missing"
            )
        visible = await visible_people(context)
        if manager_id is not None:
            boss = parse_id_text(manager_id, field="managerId")
            chart = await loaders.org_chart(context).load(
                as_of or context.require_services().today()
            )
            below = frozenset(reports_in(chart, boss, None if all_reports else 1))
            visible = below if visible is None else visible & below
        limit = page_size(first, context.settings)
        order = PeopleSort((order_by or PeopleOrder.NAME).value)
        kind, shape = _CURSORS[order]
        key = decode_cursor(kind, after, shape)
        filters = PeopleFilter(
            track=track,
            level=level,
            status=None if status is None else status.value,
            search=search,
            only_ids=visible,
            ready=ready,
            missing=missing,
        )
        queries = context.require_services().queries
        entries = await queries.list_people(
            filters,
            limit=limit + 1,
            after=None if key is None else _from_cursor(key, shape),
            order=order,
        )
        loaders.prime_people(context, [e.person for e in entries])
        ladders = await queries.ladders_at({e.person.track: e.ladder_version for e in entries})
        loaders.prime_ladders(context, ladders)
        return connection(
            entries,
            kind=kind,
            limit=limit,
            after=after,
            key=lambda e: _to_cursor(e.key),
            node=lambda e: Person.from_row(e.person, ladders[e.person.track]),
            total=lambda: queries.count_people(filters),
        )


@node_resolver("Person")
async def _person_node(context: Context, raw_id: str) -> Person | None:
    context.require_principal()
    return await person_or_none(context, parse_id_text(raw_id, field="id"))
