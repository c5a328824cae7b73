"""``startRotation``, ``endRotation`` and ``recordTraining``."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Self

import strawberry

from api.context import Info
from api.relay import encode_global_id
from api.types.mutations.common import (
    PersonPayloadBase,
    expected_version_field,
    idempotency_key_field,
    mutation,
    parse_id_uuid,
    parse_optional_id_uuid,
)
from api.types.mutations.write import write
from domain import commands as c
from events.results import CommandResult


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

    def command(self) -> c.StartRotation:
        return c.StartRotation(
            person_id=parse_id_uuid(self.person_id, "Person", "personId"),
            rotation_id=parse_optional_id_uuid(self.rotation_id, "Rotation", "rotationId")
            or uuid.uuid4(),
            host_team=self.host_team,
            development_area=self.development_area,
            effective_on=self.effective_on,
            planned_end_on=self.planned_end_on,
        )


@strawberry.input(description="End a person's rotation, with its outcome.")
class EndRotationInput:
    rotation_id: strawberry.ID
    person_id: strawberry.ID
    effective_on: date
    outcome: str
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field()

    def command(self) -> c.EndRotation:
        return c.EndRotation(
            person_id=parse_id_uuid(self.person_id, "Person", "personId"),
            rotation_id=parse_id_uuid(self.rotation_id, "Rotation", "rotationId"),
            effective_on=self.effective_on,
            outcome=self.outcome,
        )


@strawberry.type
class RotationPayloadBase(PersonPayloadBase):
    rotation_id: strawberry.ID | None = None

    @classmethod
    def accepted(cls, result: CommandResult) -> Self:
        payload = super().accepted(result)
        rotation = str(result.event.data["rotation_id"])
        payload.rotation_id = strawberry.ID(encode_global_id("Rotation", rotation))
        return payload


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

    def command(self) -> c.RecordTraining:
        return c.RecordTraining(
            person_id=parse_id_uuid(self.person_id, "Person", "personId"),
            program=self.program,
            effective_on=self.effective_on,
            development_area=self.development_area,
        )


@strawberry.type
class RecordTrainingPayload(PersonPayloadBase):
    pass


@strawberry.type
class DevelopmentMutation:
    @mutation(description="Start a role rotation (HR only).")
    async def start_rotation(
        self, info: Info, input: StartRotationInput
    ) -> StartRotationPayload | None:
        return await write(info, input, StartRotationPayload)

    @mutation(description="End a role rotation (HR only).")
    async def end_rotation(self, info: Info, input: EndRotationInput) -> EndRotationPayload | None:
        return await write(info, input, EndRotationPayload)

    @mutation(description="Record a completed training programme (HR only).")
    async def record_training(
        self, info: Info, input: RecordTrainingInput
    ) -> RecordTrainingPayload | None:
        return await write(info, input, RecordTrainingPayload)
