"""``startMentorship`` and ``endMentorship`` (recorded in both people's streams)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Self

import strawberry

from api.context import Info
from api.relay import encode_global_id
from api.types.mutations.common import (
    MutationPayload,
    expected_version_field,
    idempotency_key_field,
    mutation,
    parse_id_uuid,
    parse_optional_id_uuid,
    person_from_global_id,
    person_global_id,
    resolved_field,
)
from api.types.mutations.write import write
from api.types.person import Person
from domain import commands as c
from events.results import CommandResult


@strawberry.input(description="Pair a mentor with a mentee from `effectiveOn`.")
class StartMentorshipInput:
    mentor_id: strawberry.ID
    mentee_id: strawberry.ID
    effective_on: date
    goals: list[str] = strawberry.field(default_factory=list)
    allow_reverse: bool = strawberry.field(
        default=False,
        description="Allow a mentor whose level does not rank above the mentee's.",
    )
    mentorship_id: strawberry.ID | None = strawberry.field(
        default=None, description="A UUID for the new mentorship; made up if absent."
    )
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field("the mentee's stream")

    def command(self) -> c.StartMentorship:
        return c.StartMentorship(
            mentee_id=parse_id_uuid(self.mentee_id, "Person", "menteeId"),
            mentorship_id=parse_optional_id_uuid(self.mentorship_id, "Mentorship", "mentorshipId")
            or uuid.uuid4(),
            mentor_id=parse_id_uuid(self.mentor_id, "Person", "mentorId"),
            effective_on=self.effective_on,
            goals=tuple(self.goals),
            allow_reverse=self.allow_reverse,
        )


@strawberry.input(description="End a mentorship, with its outcome.")
class EndMentorshipInput:
    mentorship_id: strawberry.ID
    person_id: strawberry.ID = strawberry.field(description="The mentee.")
    effective_on: date
    outcome: str
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field("the mentee's stream")

    def command(self) -> c.EndMentorship:
        return c.EndMentorship(
            person_id=parse_id_uuid(self.person_id, "Person", "personId"),
            mentorship_id=parse_id_uuid(self.mentorship_id, "Mentorship", "mentorshipId"),
            effective_on=self.effective_on,
            outcome=self.outcome,
        )


@strawberry.type
class MentorshipPayloadBase(MutationPayload):
    mentorship_id: strawberry.ID | None = None
    mentor_id: strawberry.ID | None = None
    mentee_id: strawberry.ID | None = None

    @resolved_field("The mentor after the write; null when refused.")
    async def mentor(self, info: Info) -> Person | None:
        return await person_from_global_id(info.context, self.mentor_id)

    @resolved_field("The mentee after the write; null when refused.")
    async def mentee(self, info: Info) -> Person | None:
        return await person_from_global_id(info.context, self.mentee_id)

    @classmethod
    def accepted(cls, result: CommandResult) -> Self:
        data = result.event.data
        payload = super().accepted(result)
        payload.mentorship_id = strawberry.ID(
            encode_global_id("Mentorship", str(data["mentorship_id"]))
        )
        payload.mentor_id = person_global_id(str(data["mentor_id"]))
        payload.mentee_id = person_global_id(str(data["mentee_id"]))
        return payload


@strawberry.type
class StartMentorshipPayload(MentorshipPayloadBase):
    pass


@strawberry.type
class EndMentorshipPayload(MentorshipPayloadBase):
    pass


@strawberry.type
class MentoringMutation:
    @mutation(description="Start a mentorship (HR only).")
    async def start_mentorship(
        self, info: Info, input: StartMentorshipInput
    ) -> StartMentorshipPayload | None:
        return await write(info, input, StartMentorshipPayload)

    @mutation(description="End a mentorship (HR only).")
    async def end_mentorship(
        self, info: Info, input: EndMentorshipInput
    ) -> EndMentorshipPayload | None:
        return await write(info, input, EndMentorshipPayload)
