"""The one shape of every mutation resolver: input -> command -> ``execute`` -> payload.

A resolver names its input and payload types and calls :func:`write`; the input knows its
command (``command()``), the payload knows how to report a write (``accepted``) or a refusal
(``refused``). What the write meant (the stream it was judged against, the event it is
named for, a replay) comes back from ``CareerService.execute`` in its ``CommandResult``.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from api.context import Info
from api.errors import INTERNAL, ApiError, user_errors
from api.types.mutations.common import MutationPayload, execute
from domain import commands as c

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


async def write(
    info: Info, input: CommandInput, payload: type[P], *, made_up_id: bool = False
) -> P:
    """Run ``input``'s command as the calling HR user and report it as ``payload``.

    Only HR writes: a missing or weak token is a top-level ``UNAUTHENTICATED``/``FORBIDDEN``
    error. Client errors (bad input, domain rules, concurrency conflicts) become the
    payload's ``errors`` with nothing written; anything else propagates and is masked.

    ``made_up_id``: the command's id was made up here (a hire without ``personId``); the
    service then answers a replay about the first call's person.
    """
    outcome = INTERNAL  # unless set below: the exception propagates and is masked
    try:
        try:
            principal = info.context.require_writer()
        except ApiError as exc:
            outcome = exc.code
            raise
        try:
            result = await execute(
                info.context,
                principal,
                input.command(),
                idempotency_key=input.idempotency_key,
                expected_version=input.expected_version,
                made_up_id=made_up_id,
            )
        except Exception as exc:
            errors = user_errors(exc)
            outcome = errors[0].code
            return payload.refused(errors)
        outcome = "ok"
        return payload.accepted(result)
    finally:
        info.context.observe_mutation(info.field_name, outcome)
