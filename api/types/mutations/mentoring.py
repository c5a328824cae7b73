"""``startMentorship`` and ``endMentorship`` (recorded in both people's streams)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Self

import strawberry

from api.context import Info
from api.errors import user_errors
from api.relay import encode_global_id
from api.types.mutations.common import (
    MutationPayload,
    Written,
    WrittenEvent,
    execute,
    expected_version_field,
    idempotency_key_field,
    mutation,
    parse_id,
    parse_optional_id,
    person_from_global_id,
    person_global_id,
    resolved_field,
)
from api.types.person import Person
from api.types.user_error import UserError
from domain import commands as c
from events.service import person_stream


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


@strawberry.input(description="End a mentorship, with its outcome.")
class EndMentorshipInput:
    mentorship_id: strawberry.ID
    person_id: strawberry.ID = strawberry.field(description="The mentee.")
    effective_on: date
    outcome: str
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field("the mentee's stream")


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
    def done(cls, written: Written, event_type: str) -> Self:
        data = written.first(event_type).data
        return cls(
            position=written.position,
            stream_version=written.stream_version,
            replayed=written.result.replayed,
            events=[WrittenEvent.from_recorded(e) for e in written.result.events],
            mentorship_id=strawberry.ID(encode_global_id("Mentorship", str(data["mentorship_id"]))),
            mentor_id=person_global_id(str(data["mentor_id"])),
            mentee_id=person_global_id(str(data["mentee_id"])),
        )

    @classmethod
    def refused(cls, errors: list[UserError]) -> Self:
        return cls(errors=errors)


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
        info.context.require_writer()
        try:
            mentee_id = parse_id(input.mentee_id, "Person", "menteeId")
            command = c.StartMentorship(
                mentorship_id=parse_optional_id(input.mentorship_id, "Mentorship", "mentorshipId")
                or uuid.uuid4(),
                mentor_id=parse_id(input.mentor_id, "Person", "mentorId"),
                mentee_id=mentee_id,
                effective_on=input.effective_on,
                goals=tuple(input.goals),
                allow_reverse=input.allow_reverse,
            )
            written = await execute(
                info.context,
                command,
                stream=person_stream(mentee_id),
                idempotency_key=input.idempotency_key,
                expected_version=input.expected_version,
            )
        except Exception as exc:
            return StartMentorshipPayload.refused(user_errors(exc))
        return StartMentorshipPayload.done(written, "MentorshipStarted")

    @mutation(description="End a mentorship (HR only).")
    async def end_mentorship(
        self, info: Info, input: EndMentorshipInput
    ) -> EndMentorshipPayload | None:
        info.context.require_writer()
        try:
            mentee_id = parse_id(input.person_id, "Person", "personId")
            written = await execute(
                info.context,
                c.EndMentorship(
                    mentorship_id=parse_id(input.mentorship_id, "Mentorship", "mentorshipId"),
                    person_id=mentee_id,
                    effective_on=input.effective_on,
                    outcome=input.outcome,
                ),
                stream=person_stream(mentee_id),
                idempotency_key=input.idempotency_key,
                expected_version=input.expected_version,
            )
        except Exception as exc:
            return EndMentorshipPayload.refused(user_errors(exc))
        return EndMentorshipPayload.done(written, "MentorshipEnded")
