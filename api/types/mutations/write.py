"""The one shape of every mutation resolver: input -> command -> ``execute`` -> payload.

A resolver names its input and payload types and calls :func:`write`; the input knows its
command (``command()``), the payload knows how to report a write (``accepted``) or a refusal
(``refused``).
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from api.context import Info
from api.errors import INTERNAL, ApiError, user_errors
from api.types.mutations.common import MutationPayload, execute
from domain import commands as c
from events.service import ladder_stream, person_stream

P = TypeVar("P", bound=MutationPayload)


class CommandInput(Protocol):
    """A mutation's input: the write options every input takes, and its command."""

    @property
    def idempotency_key(self) -> str | None: ...

    @property
    def expected_version(self) -> int | None: ...

    def command(self) -> c.Command:
        """The domain command; bad ids or values raise client errors."""
        ...


def judged_stream(command: c.Command) -> str:
    """The stream ``CareerService`` judges ``command`` against (``expectedVersion``'s)."""
    if isinstance(command, c.PublishLadder):
        return ladder_stream(command.ladder.track)
    if isinstance(command, c.StartMentorship):
        return person_stream(command.mentee_id)
    return person_stream(command.person_id)


async def write(
    info: Info, input: CommandInput, payload: type[P], *, made_up_id: bool = False
) -> P:
    """Run ``input``'s command as the calling HR user and report it as ``payload``.

    Only HR writes: a missing or weak token is a top-level ``UNAUTHENTICATED``/``FORBIDDEN``
    error. Client errors (bad input, domain rules, concurrency conflicts) become the
    payload's ``errors`` with nothing written; anything else propagates and is masked.

    ``made_up_id``: the command's id was made up here (a hire without ``personId``), so a
    replay's result is about the first call's id: its stream is read from the result.
    """
    outcome = INTERNAL  # unless set below: the exception propagates and is masked
    try:
        try:
            info.context.require_writer()
        except ApiError as exc:
            outcome = exc.code
            raise
        try:
            command = input.command()
            written = await execute(
                info.context,
                command,
                stream=None if made_up_id else judged_stream(command),
                idempotency_key=input.idempotency_key,
                expected_version=input.expected_version,
            )
        except Exception as exc:
            errors = user_errors(exc)
            outcome = errors[0].code
            return payload.refused(errors)
        outcome = "ok"
        return payload.accepted(written)
    finally:
        info.context.observe_mutation(info.field_name, outcome)
