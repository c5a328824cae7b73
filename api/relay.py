"""Relay global IDs and the ``node(id)`` resolution registry.

A global ID is the standard base64 of ``"<GraphQL type>:<raw id>"``: opaque to clients,
stable for us. Each Node type registers an async resolver for its raw ids::

    @node_resolver("Person")
    async def _person(context: Context, raw_id: str) -> Person | None: ...

The resolver must apply the caller's read rights itself (return ``None`` when the caller
may not see the object, exactly as if it did not exist).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from api.errors import InvalidGlobalId

if TYPE_CHECKING:
    from api.context import Context

MAX_GLOBAL_ID_LENGTH = 512
_TYPE_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")

NodeResolver = Callable[["Context", str], Awaitable[object | None]]
R = TypeVar("R", bound=NodeResolver)

_resolvers: dict[str, NodeResolver] = {}


def encode_global_id(type_name: str, raw_id: str) -> str:
    if not _TYPE_NAME.match(type_name):
        raise ValueError(f"not a GraphQL type name: {type_name!r}")
    return base64.b64encode(f"{type_name}:{raw_id}".encode()).decode("ascii")


def decode_global_id(global_id: str, expected_type: str | None = None) -> tuple[str, str]:
    """``(type name, raw id)``; raises ``InvalidGlobalId`` (code ``INVALID_ID``)."""
    invalid = InvalidGlobalId(f"{global_id[:64]!r} is not a valid ID.", field="id")
    if not global_id or len(global_id) > MAX_GLOBAL_ID_LENGTH:
        raise invalid
    try:
        text = base64.b64decode(global_id.encode("ascii"), validate=True).decode("utf-8")
    except (UnicodeError, binascii.Error, ValueError):
        raise invalid from None
    type_name, sep, raw_id = text.partition(":")
    if not sep or not raw_id or not _TYPE_NAME.match(type_name):
        raise invalid
    if expected_type is not None and type_name != expected_type:
        raise InvalidGlobalId(f"Expected the ID of a {expected_type}.", field="id")
    return type_name, raw_id


def node_resolver(type_name: str) -> Callable[[R], R]:
    """Register the resolver ``node(id)`` uses for ``type_name``."""

    def register(resolver: R) -> R:
        _resolvers[type_name] = resolver
        return resolver

    return register


async def resolve_node(context: Context, global_id: str) -> object | None:
    """The object behind ``global_id``, ``None`` when unknown or not visible to the caller."""
    type_name, raw_id = decode_global_id(global_id)
    resolver = _resolvers.get(type_name)
    if resolver is None:
        return None
    return await resolver(context, raw_id)
