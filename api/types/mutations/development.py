"""``startRotation``, ``endRotation`` and ``recordTraining``."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Self

import strawberry

from api.context import Info
from api.errors import user_errors
from api.relay import encode_global_id
from api.types.mutations.common import (
    PersonPayloadBase,
    Written,
    execute,
    expected_version_field,
    idempotency_key_field,
    mutation,
    parse_id,
    parse_optional_id,
)
from api.types.user_error import UserError
from domain import commands as c
from events.service import person_stream


@strawberry.input(description="Send a person on a rotation to another team.")
class StartRotationInput:
    person_id: strawberry.ID
    host_team: str
    development_area: str = strawberry.field(description="The development area it builds.")
    effective_on: date
    planned_end_on: date
    rotation_id: strawberry.ID | None = strawberry.field(
        default=None, description="A UUID for the new rotation; made up if absent."
    )
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field()


@strawberry.input(description="End a person's rotation, with its outcome.")
class EndRotationInput:
    rotation_id: strawberry.ID
    person_id: strawberry.ID
    effective_on: date
    outcome: str
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field()


@strawberry.type
class RotationPayloadBase(PersonPayloadBase):
    rotation_id: strawberry.ID | None = None

    @classmethod
    def for_rotation(cls, written: Written, event_type: str) -> Self:
        payload = cls.done(written, written.first(event_type).data["person_id"])
        rotation = str(written.first(event_type).data["rotation_id"])
        payload.rotation_id = strawberry.ID(encode_global_id("Rotation", rotation))
        return payload

    @classmethod
    def refused(cls, errors: list[UserError]) -> Self:
        return cls(errors=errors)


@strawberry.type
class StartRotationPayload(RotationPayloadBase):
    pass


@strawberry.type
class EndRotationPayload(RotationPayloadBase):
    pass


@strawberry.input(description="Record a completed training programme.")
class RecordTrainingInput:
    person_id: strawberry.ID
    program: str
    effective_on: date
    development_area: str = strawberry.field(
        default="leadership_training", description="The development area it counts towards."
    )
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field()


@strawberry.type
class RecordTrainingPayload(PersonPayloadBase):
    pass


@strawberry.type
class DevelopmentMutation:
    @mutation(description="Start a role rotation (HR only).")
    async def start_rotation(
        self, info: Info, input: StartRotationInput
    ) -> StartRotationPayload | None:
        info.context.require_writer()
        try:
            person_id = parse_id(input.person_id, "Person", "personId")
            command = c.StartRotation(
                rotation_id=parse_optional_id(input.rotation_id, "Rotation", "rotationId")
                or uuid.uuid4(),
                person_id=person_id,
                host_team=input.host_team,
                development_area=input.development_area,
                effective_on=input.effective_on,
                planned_end_on=input.planned_end_on,
            )
            written = await execute(
                info.context,
                command,
                stream=person_stream(person_id),
                idempotency_key=input.idempotency_key,
                expected_version=input.expected_version,
            )
        except Exception as exc:
            return StartRotationPayload.refused(user_errors(exc))
        return StartRotationPayload.for_rotation(written, "RoleRotationStarted")

    @mutation(description="End a role rotation (HR only).")
    async def end_rotation(self, info: Info, input: EndRotationInput) -> EndRotationPayload | None:
        info.context.require_writer()
        try:
            person_id = parse_id(input.person_id, "Person", "personId")
            written = await execute(
                info.context,
                c.EndRotation(
                    rotation_id=parse_id(input.rotation_id, "Rotation", "rotationId"),
                    person_id=person_id,
                    effective_on=input.effective_on,
                    outcome=input.outcome,
                ),
                stream=person_stream(person_id),
                idempotency_key=input.idempotency_key,
                expected_version=input.expected_version,
            )
        except Exception as exc:
            return EndRotationPayload.refused(user_errors(exc))
        return EndRotationPayload.for_rotation(written, "RoleRotationEnded")

    @mutation(description="Record a completed training programme (HR only).")
    async def record_training(
        self, info: Info, input: RecordTrainingInput
    ) -> RecordTrainingPayload | None:
        info.context.require_writer()
        try:
            person_id = parse_id(input.person_id, "Person", "personId")
            written = await execute(
                info.context,
                c.RecordTraining(
                    person_id=person_id,
                    program=input.program,
                    effective_on=input.effective_on,
                    development_area=input.development_area,
                ),
                stream=person_stream(person_id),
                idempotency_key=input.idempotency_key,
                expected_version=input.expected_version,
            )
        except Exception as exc:
            return RecordTrainingPayload.refused(user_errors(exc))
        return RecordTrainingPayload.done(written, person_id)
