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
from api.context import Info
from api.errors import Forbidden
from api.fanout import shareable
from api.hub import fan_out
from api.scopes import InvalidArgument, parse_id_text
from api.streaming import (
    ORG_CHART_TYPES,
    Visibility,
    follow_stream,
    follow_types,
    owner_of,
    start_position,
)
from api.types.ladder import Level, level_in_version
from api.types.mutations.common import person_global_id, resolved_field
from api.types.person import Person, person_or_none
from api.websocket import OPERATION
from domain.reversals import ChangeKind, PromotionChange
from events.port import RecordedEvent
from events.reversals import PROMOTION_CHANGE_TYPES, promotion_change_of
from events.sql_store import SqlEventStore

F = TypeVar("F", bound=Callable[..., Any])

_CHANGES_KEPT = 1024

# What a correction or rescind did to a promotion never changes (the log only grows), and
# every subscriber asks about the same events: remembered per store, a bounded number.
_changes: WeakKeyDictionary[SqlEventStore, dict[int, PromotionChange | None]] = WeakKeyDictionary()


async def _promotion_change(store: SqlEventStore, event: RecordedEvent) -> PromotionChange | None:
    if event.type == "PromotionRecorded":
        return await promotion_change_of(store, event)
    known = _changes.setdefault(store, {})
    if event.position not in known:
        if len(known) >= _CHANGES_KEPT:
            known.clear()
        known[event.position] = await promotion_change_of(store, event)
    return known[event.position]


def subscription(description: str) -> Callable[[F], F]:
    """``strawberry.subscription(description=...)``, typed."""
    return cast("Callable[[F], F]", strawberry.subscription(description=description))


def _check_after(after_position: int | None) -> None:
    if after_position is not None and after_position < 0:
        raise InvalidArgument("afterPosition must be 0 or more.", field="afterPosition")


strawberry.enum(
    ChangeKind,
    name="PromotionChange",
    description="What a message of the promotions feed says happened to a promotion.",
)

# The promotion's fields as this type names them (a correction names data fields).
_FIELD_NAMES = {
    "from_level": "fromLevelKey",
    "to_level": "toLevelKey",
    "effective_on": "effectiveOn",
    "ladder_version": "ladderVersion",
    "experience_exception": "experienceException",
}


def _graphql_name(field: str) -> str:
    if field in _FIELD_NAMES:
        return _FIELD_NAMES[field]
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


@shareable
@strawberry.type(
    description=(
        "One step in the life of a promotion, as the log recorded it: the promotion "
        "`RECORDED`, `CORRECTED` (or a correction of it withdrawn), `RESCINDED`, or "
        "`RESTORED` (its rescission undone). The promotion's fields hold its values "
        "after this step; `position`, `streamVersion`, `eventId` and `recordedAt` are those "
        "of the event that took the step (the correction or rescind itself)."
    )
)
class PromotionEvent:
    position: int = strawberry.field(description="Global log position: resume after it.")
    stream_version: int
    event_id: strawberry.ID = strawberry.field(
        description="The id of the event of this step (the promotion, correction or rescind)."
    )
    recorded_at: datetime
    person_id: strawberry.ID = strawberry.field(description="The promoted person's global ID.")
    track: str
    from_level_key: str
    to_level_key: str
    ladder_version: int = strawberry.field(description="The ladder version it was judged on.")
    effective_on: date
    rationale: str
    experience_exception: str | None
    change: ChangeKind = strawberry.field(
        description="What this step did: the promotion was recorded, corrected or rescinded."
    )
    promotion_id: strawberry.ID = strawberry.field(
        description="The event id of the promotion concerned (equal to `eventId` when recorded)."
    )
    in_force: bool = strawberry.field(
        description="Whether the promotion stands after this step (false once rescinded)."
    )
    changed_fields: list[str] = strawberry.field(
        description="The fields a correction replaced, or a withdrawn correction had replaced "
        "(e.g. `effectiveOn`); empty otherwise."
    )
    reason: str | None = strawberry.field(
        description="Why the promotion was corrected, rescinded or restored; null when recorded."
    )
    _raw_person_id: strawberry.Private[str]

    @resolved_field("The level left, as the ladder version defined it.")
    async def from_level(self, info: Info) -> Level | None:
        return await level_in_version(
            info.context, self.track, self.ladder_version, self.from_level_key
        )

    @resolved_field("The level reached, as the ladder version defined it.")
    async def to_level(self, info: Info) -> Level | None:
        return await level_in_version(
            info.context, self.track, self.ladder_version, self.to_level_key
        )

    @resolved_field("The person now (null if no longer visible to you).")
    async def person(self, info: Info) -> Person | None:
        return await person_or_none(info.context, self._raw_person_id)

    @classmethod
    def from_change(cls, event: RecordedEvent, change: PromotionChange) -> PromotionEvent:
        promotion = change.promotion
        person = str(promotion.person_id)
        return cls(
            position=event.position,
            stream_version=event.version,
            event_id=strawberry.ID(str(event.event_id)),
            recorded_at=event.recorded_at,
            person_id=person_global_id(person),
            track=promotion.track,
            from_level_key=promotion.from_level,
            to_level_key=promotion.to_level,
            ladder_version=promotion.ladder_version,
            effective_on=promotion.effective_on,
            rationale=promotion.rationale,
            experience_exception=promotion.experience_exception,
            change=change.kind,
            promotion_id=strawberry.ID(str(change.promotion_id)),
            in_force=change.in_force,
            changed_fields=[_graphql_name(f) for f in change.changed_fields],
            reason=change.reason,
            _raw_person_id=person,
        )


@shareable
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
        "only those of people you may see. Each promotion is announced when recorded, and "
        "again, as its own message, when it is corrected or rescinded."
    )
    async def promotions(
        self, info: Info, after_position: int | None = None, track: str | None = None
    ) -> AsyncGenerator[PromotionEvent, None]:
        context = info.context
        principal = context.require_principal()
        _check_after(after_position)
        services = context.require_services()
        visibility = Visibility(principal, services)
        # Managers also follow org-chart changes, to refresh their reports in log order.
        manager = principal.role is Role.MANAGER
        types: tuple[str, ...] = PROMOTION_CHANGE_TYPES
        if manager:
            types = (*types, *(t for t in ORG_CHART_TYPES if t not in types))
        after = await start_position(services, after_position)

        async def promotion(event: RecordedEvent) -> PromotionEvent | None:
            if manager and event.type in ORG_CHART_TYPES:
                visibility.org_chart_changed()
            if event.type not in PROMOTION_CHANGE_TYPES:
                return None
            owner = owner_of(event)
            if owner is None or not await visibility.can_see(owner):
                return None
            change = await _promotion_change(services.store, event)
            if change is None or (track is not None and change.promotion.track != track):
                return None
            return PromotionEvent.from_change(event, change)

        async for source in fan_out(
            lambda on_idle: follow_types(context, after, types, on_idle),
            promotion,
            feed=("promotions", track),
            websocket=context.request,
            operation=OPERATION.get(),
            types=types,
            keep=None,
            store=services.store,
            notifier=services.runtime.notifier,
        ):
            yield cast("PromotionEvent", source)

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
        raw = parse_id_text(person_id, field="personId")
        services = context.require_services()
        visibility = Visibility(principal, services)
        if not await visibility.can_see(raw):
            raise Forbidden("You may not follow this person's events.", field="personId")
        after = await start_position(services, after_position)
        stream = f"person-{raw}"

        async def career_event(event: RecordedEvent) -> CareerLogEvent | None:
            # Rights can change while the subscription runs (a manager loses a report).
            if event.stream != stream or not await visibility.can_see(raw):
                return None
            return CareerLogEvent.from_recorded(event, raw)

        async for source in fan_out(
            lambda on_idle: follow_stream(context, stream, after, on_idle),
            career_event,
            feed=("careerEvents", raw),
            websocket=context.request,
            operation=OPERATION.get(),
            types=None,
            keep=lambda e: e.stream == stream,
            store=services.store,
            notifier=services.runtime.notifier,
        ):
            yield cast("CareerLogEvent", source)
