"""Who may read whom, and the id arguments that name people.

The rules (issue 5): an ``employee`` reads themselves; a ``manager`` themselves and their
reports, direct and indirect; ``hr`` and ``auditor`` read everyone. Audit trails and
experience exceptions are for ``hr`` and ``auditor`` only. Ladders and levels are public.

How a denial looks depends on the field:

* nullable lookups (``person``, ``node``, a person's ``manager``/``mentor``) answer ``null``
  for people the caller may not see, exactly as for unknown ids (nothing leaks);
* lists (``people``, ``mentorships``, ``rotations``, ``mentees``) leave them out;
* non-null per-person fields (``careerHistory``, ``auditTrail``, ``promotionReadiness``)
  raise ``FORBIDDEN`` -- decided from the id alone, before looking the person up, so the
  answer does not tell whether the person exists -- and then ``NOT_FOUND``;
* without a token every non-public field raises ``UNAUTHENTICATED``.

The caller's visible set is computed once per request (a manager's reports come from one
query through a DataLoader).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import strawberry

from api.auth import Principal, Role
from api.context import Context
from api.errors import ApiError, Forbidden, InvalidGlobalId
from api.relay import decode_global_id

PERSON = "Person"

PersonIdArg = Annotated[
    strawberry.ID,
    strawberry.argument(description="A Person's global ID (`Person.id`), or its UUID."),
]
"""An argument naming a person: the global ID, or the bare UUID (``parse_id_text``)."""
OptionalPersonIdArg = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="A Person's global ID (`Person.id`), or its UUID."),
]


class NotFound(ApiError):
    """The object a non-null field needs does not exist."""

    code = "NOT_FOUND"


class InvalidArgument(ApiError):
    """An argument out of its documented range."""

    code = "INVALID_ARGUMENT"


def _canonical_uuid(value: str) -> str | None:
    try:
        return str(UUID(value))
    except ValueError:
        return None


def parse_id_text(value: str, *, type_name: str = PERSON, field: str = "personId") -> str:
    """The raw UUID an id argument names, as a lowercase string.

    Accepts the object's global ID (``Person``'s for people) or, for convenience in
    scripts, the bare UUID. Anything else is ``INVALID_ID`` naming ``field``.
    """
    raw = _canonical_uuid(value)
    if raw is not None:
        return raw
    try:
        found_type, inner = decode_global_id(value)
    except InvalidGlobalId:
        raise InvalidGlobalId(
            f"{value[:64]!r} is not a valid {type_name} ID.", field=field
        ) from None
    raw = _canonical_uuid(inner)
    if found_type != type_name or raw is None:
        raise InvalidGlobalId(f"Expected the ID of a {type_name}.", field=field)
    return raw


def subject_id(principal: Principal) -> str:
    """The principal's subject, canonical when it is a person id."""
    return _canonical_uuid(principal.subject) or principal.subject


async def visible_people(context: Context) -> frozenset[str] | None:
    """Ids of the people the caller may read; ``None`` means everyone.

    Raises ``UNAUTHENTICATED`` without a token.
    """
    principal = context.require_principal()
    if principal.can_read_everything:
        return None
    me = subject_id(principal)
    if principal.role is not Role.MANAGER:
        return frozenset({me})
    reports = await context.loader(context.require_services().queries.reports_batch).load(me)
    return frozenset({me, *reports})


async def can_see(context: Context, person_id: str) -> bool:
    """Whether the caller may read ``person_id``; ``False`` without a token."""
    if context.principal is None:
        return False
    visible = await visible_people(context)
    return visible is None or person_id in visible


async def require_person(context: Context, person_id: str) -> None:
    """``UNAUTHENTICATED`` without a token, ``FORBIDDEN`` for someone out of reach."""
    context.require_principal()
    if not await can_see(context, person_id):
        raise Forbidden("You may not read this person's records.", field="personId")


def require_auditor(context: Context, what: str) -> Principal:
    """Only ``hr`` and ``auditor`` read audit data."""
    principal = context.require_principal()
    if not principal.can_read_audit:
        raise Forbidden(f"Only HR and auditors may read {what}.")
    return principal
