"""``CareerEvent`` (one career fact) and ``careerHistory``: a career as of a day, as known then.

``careerHistory(personId, asOf, knownAt)`` is computed from the log, not the read models:
events recorded after ``knownAt`` are ignored, then the career is viewed as effective on
``asOf`` -- "what did the record say on 10 January about 31 December".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

from api import loaders
from api.context import Context, Info
from api.fields import field
from api.scopes import NotFound, PersonIdArg, parse_id_text, require_person
from api.types.ladder import Level, level_in_version
from domain.career import LevelChange
from events.readmodels.api_history import CareerHistoryView, FactView
from events.readmodels.views import TimelineEntry, utc

if TYPE_CHECKING:
    from api.types.person import Person


def _levels_of(data: dict[str, Any]) -> tuple[str | None, str | None, str | None, str | None]:
    """``(from track, from level, track, level)`` named by a fact's data."""
    track = data.get("to_track") or data.get("track")
    from_track = data.get("from_track") or track
    return from_track, data.get("from_level"), track, data.get("to_level") or data.get("level")


def _version_of(data: dict[str, Any]) -> int | None:
    """The ladder version a fact was judged against, when it names one."""
    version = data.get("ladder_version")
    return version if isinstance(version, int) else None


@strawberry.type(description="One career fact of a person's stream, as it stands.")
class CareerEvent:
    event_id: strawberry.ID
    type: str = strawberry.field(description="The event type, e.g. `PromotionRecorded`.")
    effective_on: date
    position: int = strawberry.field(description="Global log position.")
    stream_version: int
    recorded_at: datetime
    actor: str | None = strawberry.field(description="Who recorded it.")
    track: str | None
    from_level_key: str | None
    level_key: str | None = strawberry.field(description="The level the fact sets, if any.")
    data: JSON = strawberry.field(description="The fact's data, corrections applied.")
    original_data: JSON | None = strawberry.field(
        description="The data as first recorded, when a correction changed it."
    )
    corrections: JSON = strawberry.field(description="The corrections applied, oldest first.")
    corrected: bool
    rescinded: bool
    rescind_reason: str | None
    _from_track: strawberry.Private[str | None]
    _ladder_version: strawberry.Private[int | None]

    @field(
        description="The level the fact moved from (promotions, demotions...), as the "
        "ladder version it was judged against defined it."
    )
    async def from_level(self, info: Info) -> Level | None:
        same_track = self._from_track == self.track
        version = self._ladder_version if same_track else None
        return await level_in_version(info.context, self._from_track, version, self.from_level_key)

    @field(
        description="The level the fact sets (hire, promotion, move...), as the ladder "
        "version it was judged against defined it."
    )
    async def to_level(self, info: Info) -> Level | None:
        return await level_in_version(
            info.context, self.track, self._ladder_version, self.level_key
        )

    @classmethod
    def from_timeline(cls, row: TimelineEntry) -> CareerEvent:
        from_track, _, _, _ = _levels_of(row.data)
        return cls(
            event_id=strawberry.ID(str(row.event_id)),
            type=row.type,
            effective_on=row.effective_on,
            position=row.position,
            stream_version=row.stream_version,
            recorded_at=utc(row.recorded_at),
            actor=row.actor_id,
            track=row.track,
            from_level_key=row.from_level,
            level_key=row.level,
            data=JSON(row.data),
            original_data=None if row.original_data is None else JSON(row.original_data),
            corrections=JSON([c.to_data() for c in row.corrections]),
            corrected=row.corrected_by is not None,
            rescinded=row.rescinded,
            rescind_reason=row.rescind_reason,
            _from_track=from_track,
            _ladder_version=_version_of(row.data),
        )

    @classmethod
    def from_fact(cls, fact: FactView) -> CareerEvent:
        from_track, from_level, track, level = _levels_of(fact.data)
        return cls(
            event_id=strawberry.ID(fact.event_id),
            type=fact.type,
            effective_on=fact.effective_on,
            position=fact.position,
            stream_version=fact.stream_version,
            recorded_at=fact.recorded_at,
            actor=fact.actor_id,
            track=track,
            from_level_key=from_level,
            level_key=level,
            data=JSON(fact.data),
            original_data=None if fact.original_data is None else JSON(fact.original_data),
            corrections=JSON([]),
            corrected=fact.original_data is not None,
            rescinded=False,
            rescind_reason=None,
            _from_track=from_track,
            _ladder_version=_version_of(fact.data),
        )


@strawberry.type(description="One step of a career: hired, promoted, demoted, moved, rehired.")
class LevelStep:
    event_id: strawberry.ID
    kind: str
    effective_on: date
    track: str
    level_key: str

    @strawberry.field
    async def level(self, info: Info) -> Level | None:
        return await loaders.level(info.context, self.track, self.level_key)

    @classmethod
    def from_domain(cls, change: LevelChange) -> LevelStep:
        return cls(
            event_id=strawberry.ID(str(change.event_id)),
            kind=change.kind,
            effective_on=change.effective_on,
            track=change.track,
            level_key=change.level,
        )


@strawberry.type(description="A career as effective on `asOf`, as the log knew it at `knownAt`.")
class CareerHistory:
    person_id: strawberry.ID
    as_of: date | None = strawberry.field(description="Null: after every recorded fact.")
    known_at: datetime | None = strawberry.field(description="Null: everything recorded.")
    known_position: int = strawberry.field(description="The last log position included.")
    name: str
    email: str
    track: str
    level_key: str
    status: str
    hired_on: date | None
    level_since: date | None
    years_of_experience: float = strawberry.field(description="On `asOf` (or today).")
    level_changes: list[LevelStep]
    events: list[CareerEvent] = strawberry.field(
        description="The standing facts effective by `asOf`, corrections known then applied, "
        "and the mentorships started or ended by then (as mentor and as mentee)."
    )
    _manager_id: strawberry.Private[str | None]

    @strawberry.field
    async def level(self, info: Info) -> Level | None:
        return await loaders.level(info.context, self.track, self.level_key)

    @field(description="The manager then; null if none or not visible to you.")
    async def manager(
        self, info: Info
    ) -> Annotated[Person, strawberry.lazy("api.types.person")] | None:
        from api.types.person import person_or_none

        return (
            None
            if self._manager_id is None
            else await person_or_none(info.context, self._manager_id)
        )

    @classmethod
    def from_view(cls, view: CareerHistoryView, today: date) -> CareerHistory:
        career = view.career
        return cls(
            person_id=strawberry.ID(view.person_id),
            as_of=view.as_of,
            known_at=view.known_at,
            known_position=view.known_position,
            name=career.name,
            email=career.email,
            track=career.track,
            level_key=career.level,
            status=career.status,
            hired_on=career.hired_on,
            level_since=career.level_since,
            years_of_experience=round(career.years_of_experience(view.as_of or today), 2),
            level_changes=[LevelStep.from_domain(c) for c in career.history],
            events=[CareerEvent.from_fact(f) for f in view.facts],
            _manager_id=None if career.manager_id is None else str(career.manager_id),
        )


@strawberry.type
class CareerQuery:
    @field(
        description="A person's career as effective on `asOf` (default: after every fact) "
        "and as recorded by `knownAt` (default: now), computed from the log."
    )
    async def career_history(
        self,
        info: Info,
        person_id: PersonIdArg,
        as_of: date | None = None,
        known_at: datetime | None = None,
    ) -> CareerHistory:
        raw = parse_id_text(person_id)
        await require_person(info.context, raw)
        return await history_of(info.context, raw, as_of, known_at)


async def history_of(
    context: Context, person_id: str, as_of: date | None, known_at: datetime | None
) -> CareerHistory:
    """The career history of a person the caller may read; ``NOT_FOUND`` without a hire."""
    found = await history_or_none(context, person_id, as_of, known_at)
    if found is None:
        raise NotFound("No career is recorded for this person.", field="personId")
    return found


async def history_or_none(
    context: Context, person_id: str, as_of: date | None, known_at: datetime | None
) -> CareerHistory | None:
    """The career history of a person the caller may read; None when the log (as known at
    ``known_at``) has no hire of theirs effective by ``as_of``."""
    services = context.require_services()
    known = None if known_at is None else utc(known_at)
    view = await services.queries.career_history(person_id, as_of=as_of, known_at=known)
    return None if view is None else CareerHistory.from_view(view, services.today())
