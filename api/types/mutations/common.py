"""What every mutation shares: id and key parsing, the write call, the payload pieces.

The resolvers put them together in one place, :func:`api.types.mutations.write.write`
(require a writer, input -> command -> :func:`execute` -> payload or payload ``errors``).
What a write means (the stream it is judged against, the event it is named for, whether a
repeated idempotency key may answer it) is ``CareerService``'s: its ``CommandResult`` is
reported as it is.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
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
from domain.command_events import AnyCommand
from events.port import Metadata, RecordedEvent
from events.results import CommandResult
from events.service import CareerService

F = TypeVar("F", bound=Callable[..., Any])

MAX_IDEMPOTENCY_KEY_LENGTH = 200
MAX_SUBJECT_IN_KEY = 47
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]+$")  # visible ASCII, no spaces


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


async def execute(
    context: Context,
    principal: Principal,
    command: AnyCommand,
    *,
    idempotency_key: str | None,
    expected_version: int | None,
    made_up_id: bool = False,
) -> CommandResult:
    """Run ``command`` as ``principal``; raises client errors with nothing written.

    ``made_up_id``: the id of what the command creates was made up here, not given by the
    client (``CareerService.execute`` says what that means for a replay).
    """
    metadata = Metadata(
        actor_id=principal.subject,
        actor_role=principal.role.value,
        correlation_id=context.request_id,
        idempotency_key=scoped_key(principal, parse_idempotency_key(idempotency_key)),
    )
    return await career_service(context).execute(
        command,
        metadata=metadata,
        expected_version=parse_expected_version(expected_version),
        made_up_id=made_up_id,
    )


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
    def accepted(cls, result: CommandResult) -> Self:
        """The payload of a write that happened; subclasses add what its named event says."""
        return cls(
            position=result.position,
            stream_version=result.stream_version,
            replayed=result.replayed,
            events=[WrittenEvent.from_recorded(e) for e in result.events],
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
    def accepted(cls, result: CommandResult) -> Self:
        payload = super().accepted(result)
        payload.person_id = person_global_id(result.stream.removeprefix("person-"))
        return payload
