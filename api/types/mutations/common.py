"""What every mutation shares: id and key parsing, the write call, the payload pieces.

The resolvers put them together in one place, :func:`api.types.mutations.write.write`
(require a writer, input -> command -> :func:`execute` -> payload or payload ``errors``).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self, TypeVar, cast

import strawberry

from api import scopes
from api.auth import Principal
from api.context import Context, Info
from api.errors import ApiError
from api.relay import encode_global_id
from api.types.person import Person, person_or_none
from api.types.user_error import UserError
from domain import commands as c
from events.port import Metadata, RecordedEvent
from events.service import CareerService, CommandResult

F = TypeVar("F", bound=Callable[..., Any])

MAX_IDEMPOTENCY_KEY_LENGTH = 200
MAX_SUBJECT_IN_KEY = 47
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]+$")  # visible ASCII, no spaces

# The event type each command writes into the stream it is judged against; a replayed
# idempotency key must have written it, or the key was used for another operation.
WRITES: dict[type[object], str] = {
    c.HirePerson: "PersonHired",
    c.RecordPromotion: "PromotionRecorded",
    c.RecordDemotion: "DemotionRecorded",
    c.RecordLateralMove: "LateralMoveRecorded",
    c.StartMentorship: "MentorshipStarted",
    c.EndMentorship: "MentorshipEnded",
    c.StartRotation: "RoleRotationStarted",
    c.EndRotation: "RoleRotationEnded",
    c.RecordTraining: "LeadershipTrainingCompleted",
    c.RecordDeparture: "PersonDeparted",
    c.RehirePerson: "PersonRehired",
    c.ChangeManager: "ManagerChanged",
    c.CorrectEvent: "EventCorrected",
    c.RescindEvent: "EventRescinded",
    c.PublishLadder: "LadderPublished",
    c.ErasePersonalData: "PersonalDataErased",
}

ALSO_WRITES: dict[type[object], tuple[str, ...]] = {
    c.CorrectEvent: ("MentorshipCorrected",),  # a correction of a mentorship's start or end
}


class IdempotencyKeyReused(ApiError):
    """The key was first used for a different operation (or another person)."""

    code = "IDEMPOTENCY_KEY_REUSED"


class InvalidMutationInput(ApiError):
    code = "VALIDATION_ERROR"


def career_service(context: Context) -> CareerService:
    return context.require_services().service


def resolved_field(description: str) -> Callable[[F], F]:
    """``strawberry.field(description=...)`` as a resolver decorator, typed."""
    return cast("Callable[[F], F]", strawberry.field(description=description))


def mutation(description: str) -> Callable[[F], F]:
    """``strawberry.mutation(description=...)``, typed (Strawberry's overload returns ``Any``)."""
    return cast("Callable[[F], F]", strawberry.mutation(description=description))


def idempotency_key_field() -> Any:
    """The ``idempotencyKey`` input field every mutation takes."""
    return strawberry.field(
        default=None,
        description="Repeat the mutation safely: a key you used before returns the first "
        "result (`replayed: true`) and writes nothing. Keys are yours alone (scoped to the "
        "caller); 1 to 200 visible ASCII characters.",
    )


def expected_version_field(stream: str = "the person's stream") -> Any:
    """The ``expectedVersion`` input field every mutation takes."""
    return strawberry.field(
        default=None,
        description=f"Write only if {stream} is still at this version (`streamVersion` of "
        "your last read or write); otherwise CONCURRENCY_CONFLICT. 0 means a new stream.",
    )


# --- input parsing ------------------------------------------------------------------------


def parse_id_uuid(value: str, type_name: str, field: str) -> uuid.UUID:
    """A UUID from ``type_name``'s global ID or a bare UUID (as the queries accept them);
    ``INVALID_ID`` naming ``field`` otherwise."""
    return uuid.UUID(scopes.parse_id_text(value.strip(), type_name=type_name, field=field))


def parse_optional_id_uuid(value: str | None, type_name: str, field: str) -> uuid.UUID | None:
    return None if value is None else parse_id_uuid(value, type_name, field)


def parse_idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not 1 <= len(value) <= MAX_IDEMPOTENCY_KEY_LENGTH or not _IDEMPOTENCY_KEY.match(value):
        raise InvalidMutationInput(
            f"idempotencyKey must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters.",
            field="idempotencyKey",
        )
    return value


def scoped_key(principal: Principal, key: str | None) -> str | None:
    """The key as stored: scoped to the caller, so two clients' keys never collide.

    The subject is length-prefixed (``api:<length>:<subject>:<key>``): subjects and keys
    may both hold ``:``, and without the length caller ``hr`` with key ``a:k`` would meet
    caller ``hr:a`` with key ``k``. Long subjects are hashed (a fixed length, so still
    unambiguous) to keep the stored key within the store's 255 characters.
    """
    if key is None:
        return None
    subject = principal.subject
    if len(subject) > MAX_SUBJECT_IN_KEY:
        subject = "#" + hashlib.sha256(subject.encode()).hexdigest()[: MAX_SUBJECT_IN_KEY - 1]
    return f"api:{len(subject)}:{subject}:{key}"


def parse_expected_version(value: int | None) -> int | None:
    if value is not None and value < 0:
        raise InvalidMutationInput(
            "expectedVersion must be 0 (a new stream) or more.", field="expectedVersion"
        )
    return value


def person_global_id(person_id: uuid.UUID | str) -> strawberry.ID:
    return strawberry.ID(encode_global_id("Person", str(person_id)))


async def person_from_global_id(context: Context, global_id: str | None) -> Person | None:
    """The ``Person`` a payload names, as the caller may see it."""
    if global_id is None:
        return None
    return await person_or_none(context, str(parse_id_uuid(global_id, "Person", "personId")))


# --- the write ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Written:
    """A command's outcome as the payloads report it."""

    result: CommandResult
    event: RecordedEvent
    """The event the command is named for, in the stream it was judged against."""

    @property
    def stream(self) -> str:
        """The stream the command was judged against (``expectedVersion`` applies to it)."""
        return self.event.stream

    @property
    def position(self) -> int:
        return self.result.position

    @property
    def stream_version(self) -> int:
        return max(e.version for e in self.result.events if e.stream == self.stream)


def _check_replay(command: c.Command, result: CommandResult, stream: str | None) -> RecordedEvent:
    """The event the command is named for; refuses a key first used for another operation."""
    written = {WRITES[type(command)], *ALSO_WRITES.get(type(command), ())}
    match = [
        e for e in result.events if e.type in written and (stream is None or e.stream == stream)
    ]
    if not match:
        raise IdempotencyKeyReused(
            "This idempotencyKey was already used for a different operation.",
            field="idempotencyKey",
        )
    return match[0]


async def execute(
    context: Context,
    command: c.Command,
    *,
    stream: str | None,
    idempotency_key: str | None,
    expected_version: int | None,
) -> Written:
    """Run ``command`` as the calling HR user; raises client errors with nothing written.

    ``stream`` is the stream the command is judged against (``None`` when the server
    chose the id, as for a hire without ``personId``: it is read from the result).
    """
    principal = context.require_writer()
    metadata = Metadata(
        actor_id=principal.subject,
        actor_role=principal.role.value,
        correlation_id=context.request_id,
        idempotency_key=scoped_key(principal, parse_idempotency_key(idempotency_key)),
    )
    result = await career_service(context).execute(
        command, metadata=metadata, expected_version=parse_expected_version(expected_version)
    )
    return Written(result, _check_replay(command, result, stream))


# --- payload pieces -----------------------------------------------------------------------


@strawberry.type(description="An event a mutation appended to the log.")
class WrittenEvent:
    event_id: strawberry.ID = strawberry.field(description="The event's id (a UUID).")
    type: str = strawberry.field(description="The event type, e.g. `PromotionRecorded`.")
    stream: str
    position: int = strawberry.field(description="Global log position.")
    stream_version: int
    recorded_at: datetime

    @classmethod
    def from_recorded(cls, event: RecordedEvent) -> WrittenEvent:
        return cls(
            event_id=strawberry.ID(str(event.event_id)),
            type=event.type,
            stream=event.stream,
            position=event.position,
            stream_version=event.version,
            recorded_at=event.recorded_at,
        )


@strawberry.interface(description="What every mutation payload carries.")
class MutationPayload:
    position: int | None = strawberry.field(
        default=None, description="The log position the write reached; null when refused."
    )
    stream_version: int | None = strawberry.field(
        default=None,
        description="The version of the stream the command was judged against (pass it "
        "as `expectedVersion` next time); null when refused.",
    )
    replayed: bool = strawberry.field(
        default=False,
        description="True when the idempotencyKey was seen before: nothing new was written.",
    )
    events: list[WrittenEvent] = strawberry.field(
        default_factory=list, description="The events written (or written before, if replayed)."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the mutation was refused; empty on success."
    )

    @classmethod
    def accepted(cls, written: Written) -> Self:
        """The payload of a write that happened; subclasses add what the write names."""
        return cls(
            position=written.position,
            stream_version=written.stream_version,
            replayed=written.result.replayed,
            events=[WrittenEvent.from_recorded(e) for e in written.result.events],
        )

    @classmethod
    def refused(cls, errors: list[UserError]) -> Self:
        return cls(errors=errors)


@strawberry.type
class PersonPayloadBase(MutationPayload):
    """Fields of the payloads whose result is a person (no root field returns it itself)."""

    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="The global ID of the person the write is about."
    )

    @resolved_field("The person after the write (read your writes); null when refused.")
    async def person(self, info: Info) -> Person | None:
        return await person_from_global_id(info.context, self.person_id)

    @classmethod
    def accepted(cls, written: Written) -> Self:
        payload = super().accepted(written)
        payload.person_id = person_global_id(written.stream.removeprefix("person-"))
        return payload
