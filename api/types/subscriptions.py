"""``promotions`` and ``careerEvents``: the log, replayed after a position, then live.

Over ``graphql-transport-ws`` and legacy ``graphql-ws`` (the token comes in
``connection_init``). Every message carries its ``position``: a client that drops resumes
by subscribing again with ``afterPosition`` set to the last position it received, and
gets exactly the events it missed, then live ones. Each event is checked against the
subscriber's rights before it is sent; events the subscriber may not see are skipped.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from datetime import date, datetime
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

import strawberry
from strawberry.scalars import JSON

from api.auth import Role
from api.context import Context, Info
from api.errors import ApiError, Forbidden
from api.scopes import parse_id
from api.services import read_services
from api.streaming import (
    ORG_CHART_TYPES,
    Visibility,
    follow_stream,
    follow_types,
    owner_of,
    start_position,
)
from api.types.ladder import Level
from api.types.mutations.common import person_global_id, resolved_field
from api.types.person import Person, person_or_none
from domain import ladder as domain_ladder
from events.port import RecordedEvent
from events.sql_store import SqlEventStore

F = TypeVar("F", bound=Callable[..., Any])

PROMOTION = "PromotionRecorded"

# Published ladder versions never change, so they are cached for the process (per store).
_ladder_versions: WeakKeyDictionary[SqlEventStore, dict[tuple[str, int], domain_ladder.Ladder]] = (
    WeakKeyDictionary()
)


class InvalidArgument(ApiError):
    code = "INVALID_ARGUMENT"


def subscription(description: str) -> Callable[[F], F]:
    """``strawberry.subscription(description=...)``, typed."""
    return cast("Callable[[F], F]", strawberry.subscription(description=description))


async def ladder_version(context: Context, track: str, version: int) -> domain_ladder.Ladder | None:
    services = read_services(context)
    cache = _ladder_versions.setdefault(services.store, {})
    if (track, version) not in cache:
        for ladder in await services.service.ladder_versions(track):
            cache[(track, ladder.version)] = ladder
    return cache.get((track, version))


async def level_of(context: Context, track: str, version: int, key: str) -> Level | None:
    ladder = await ladder_version(context, track, version)
    if ladder is None or not ladder.has_level(key):
        return None
    return Level.from_domain(ladder.level(key), ladder)


def _check_after(after_position: int | None) -> None:
    if after_position is not None and after_position < 0:
        raise InvalidArgument("afterPosition must be 0 or more.", field="afterPosition")


@strawberry.type(description="A promotion, as the log recorded it.")
class PromotionEvent:
    position: int = strawberry.field(description="Global log position: resume after it.")
    stream_version: int
    event_id: strawberry.ID
    recorded_at: datetime
    person_id: strawberry.ID = strawberry.field(description="The promoted person's global ID.")
    track: str
    from_level_key: str
    to_level_key: str
    ladder_version: int = strawberry.field(description="The ladder version it was judged on.")
    effective_on: date
    rationale: str
    experience_exception: str | None
    _raw_person_id: strawberry.Private[str]

    @resolved_field("The level left, as the ladder version defined it.")
    async def from_level(self, info: Info) -> Level | None:
        return await level_of(info.context, self.track, self.ladder_version, self.from_level_key)

    @resolved_field("The level reached, as the ladder version defined it.")
    async def to_level(self, info: Info) -> Level | None:
        return await level_of(info.context, self.track, self.ladder_version, self.to_level_key)

    @resolved_field("The person now (null if no longer visible to you).")
    async def person(self, info: Info) -> Person | None:
        return await person_or_none(info.context, self._raw_person_id)

    @classmethod
    def from_recorded(cls, event: RecordedEvent) -> PromotionEvent:
        data = event.data
        person = str(data["person_id"])
        return cls(
            position=event.position,
            stream_version=event.version,
            event_id=strawberry.ID(str(event.event_id)),
            recorded_at=event.recorded_at,
            person_id=person_global_id(person),
            track=str(data["track"]),
            from_level_key=str(data["from_level"]),
            to_level_key=str(data["to_level"]),
            ladder_version=int(data["ladder_version"]),
            effective_on=date.fromisoformat(str(data["effective_on"])),
            rationale=str(data["rationale"]),
            experience_exception=data.get("experience_exception"),
            _raw_person_id=person,
        )


@strawberry.type(description="One event of a person's stream, as the log recorded it.")
class CareerLogEvent:
    position: int = strawberry.field(description="Global log position: resume after it.")
    stream_version: int
    event_id: strawberry.ID
    type: str = strawberry.field(description="The event type, e.g. `PromotionRecorded`.")
    person_id: strawberry.ID
    effective_on: date | None
    recorded_at: datetime
    data: JSON = strawberry.field(description="The event's data (snake_case fields).")

    @classmethod
    def from_recorded(cls, event: RecordedEvent, person_id: str) -> CareerLogEvent:
        effective = event.data.get("effective_on")
        return cls(
            position=event.position,
            stream_version=event.version,
            event_id=strawberry.ID(str(event.event_id)),
            type=event.type,
            person_id=person_global_id(person_id),
            effective_on=None if effective is None else date.fromisoformat(str(effective)),
            recorded_at=event.recorded_at,
            data=cast("JSON", dict(event.data)),
        )


@strawberry.type
class CareerSubscription:
    @subscription(
        "Promotions after `afterPosition` (default: from now on), replayed then live; "
        "only those of people you may see."
    )
    async def promotions(
        self, info: Info, after_position: int | None = None, track: str | None = None
    ) -> AsyncGenerator[PromotionEvent, None]:
        context = info.context
        principal = context.require_principal()
        _check_after(after_position)
        services = read_services(context)
        visibility = Visibility(principal, services)
        # Managers also follow org-chart changes, to refresh their reports in log order.
        manager = principal.role is Role.MANAGER
        types = (PROMOTION, *ORG_CHART_TYPES) if manager else (PROMOTION,)
        after = await start_position(services, after_position)
        async for event in follow_types(context, after, types):
            if event.type != PROMOTION:
                visibility.org_chart_changed()
                continue
            if track is not None and event.data.get("track") != track:
                continue
            owner = owner_of(event)
            if owner is None or not await visibility.can_see(owner):
                continue
            yield PromotionEvent.from_recorded(event)

    @subscription(
        "Every event of one person's stream after `afterPosition` (default: from now on), "
        "replayed then live."
    )
    async def career_events(
        self, info: Info, person_id: strawberry.ID, after_position: int | None = None
    ) -> AsyncGenerator[CareerLogEvent, None]:
        context = info.context
        principal = context.require_principal()
        _check_after(after_position)
        raw = parse_id(person_id, field="personId")
        services = read_services(context)
        visibility = Visibility(principal, services)
        if not await visibility.can_see(raw):
            raise Forbidden("You may not follow this person's events.", field="personId")
        after = await start_position(services, after_position)
        async for event in follow_stream(context, f"person-{raw}", after):
            # Rights can change while the subscription runs (a manager loses a report).
            if await visibility.can_see(raw):
                yield CareerLogEvent.from_recorded(event, raw)
