"""``correctEvent`` and ``rescindEvent``: fix the record without rewriting it."""

from __future__ import annotations

import re
from typing import Any

import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.types.mutations.common import (
    InvalidMutationInput,
    PersonPayloadBase,
    expected_version_field,
    idempotency_key_field,
    mutation,
    parse_id_uuid,
)
from api.types.mutations.write import write
from domain import commands as c

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
EVENT_ID_TYPES = "Event"
"""The global-ID type name of log events (a bare UUID is accepted too)."""


def snake_case(name: str) -> str:
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def changes_of(value: object) -> dict[str, Any]:
    """The changes keyed as the event data is (``effectiveOn`` becomes ``effective_on``)."""
    if not isinstance(value, dict) or not value:
        raise InvalidMutationInput(
            'changes must be an object of field names and new values, e.g. {"effectiveOn": '
            '"2024-03-01"}.',
            field="changes",
        )
    changes: dict[str, Any] = {}
    for key, new in value.items():
        name = snake_case(str(key))
        if name in changes:
            raise InvalidMutationInput(f"changes names {name!r} twice.", field="changes")
        changes[name] = new
    return changes


@strawberry.input(description="Correct fields of a person's earlier career event.")
class CorrectEventInput:
    person_id: strawberry.ID
    target_event_id: strawberry.ID = strawberry.field(
        description="The event to correct: a career fact, or either person's copy of a "
        "mentorship's start (`effectiveOn`, `goals`) or end (`effectiveOn`, `outcome`), which "
        "is corrected in both people's streams."
    )
    changes: JSON = strawberry.field(
        description="Field names (as the event shows them) and new values, e.g. "
        '`{"effectiveOn": "2024-03-01"}`.'
    )
    reason: str
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field()

    def command(self) -> c.CorrectEvent:
        return c.CorrectEvent(
            person_id=parse_id_uuid(self.person_id, "Person", "personId"),
            target_event_id=parse_id_uuid(self.target_event_id, EVENT_ID_TYPES, "targetEventId"),
            changes=changes_of(self.changes),
            reason=self.reason,
        )


@strawberry.type
class CorrectEventPayload(PersonPayloadBase):
    pass


@strawberry.input(description="Rescind a person's earlier career event (it no longer counts).")
class RescindEventInput:
    person_id: strawberry.ID
    target_event_id: strawberry.ID
    reason: str
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field()

    def command(self) -> c.RescindEvent:
        return c.RescindEvent(
            person_id=parse_id_uuid(self.person_id, "Person", "personId"),
            target_event_id=parse_id_uuid(self.target_event_id, EVENT_ID_TYPES, "targetEventId"),
            reason=self.reason,
        )


@strawberry.type
class RescindEventPayload(PersonPayloadBase):
    pass


@strawberry.type
class CorrectionMutation:
    @mutation(description="Correct an earlier career event (HR only).")
    async def correct_event(
        self, info: Info, input: CorrectEventInput
    ) -> CorrectEventPayload | None:
        return await write(info, input, CorrectEventPayload)

    @mutation(description="Rescind an earlier career event (HR only).")
    async def rescind_event(
        self, info: Info, input: RescindEventInput
    ) -> RescindEventPayload | None:
        return await write(info, input, RescindEventPayload)
