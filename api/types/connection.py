"""Relay connections: ``XConnection { edges { cursor node } nodes pageInfo totalCount }``.

Cursors are keyset cursors: the opaque (base64url JSON) sort key of the row they follow,
tagged with the list they belong to -- a sort key or a log position, never an offset, so
rows written meanwhile neither shift nor repeat a page. ``first`` defaults to
``DEFAULT_PAGE_SIZE`` and may not exceed ``settings.max_page_size`` (``INVALID_PAGE_SIZE``);
a cursor from another list or a forged one is ``INVALID_CURSOR``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any, Generic, TypeVar

import orjson
import strawberry

from api.errors import ApiError
from api.fields import field
from api.settings import Settings

DEFAULT_PAGE_SIZE = 20
MAX_CURSOR_LENGTH = 512

NodeT = TypeVar("NodeT")
RowT = TypeVar("RowT")
Key = list[str | int]


class InvalidCursor(ApiError):
    code = "INVALID_CURSOR"


class InvalidPageSize(ApiError):
    code = "INVALID_PAGE_SIZE"


@strawberry.type(description="Where a page sits in its list (Relay).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool = strawberry.field(
        description="True when the page was asked for `after` a cursor."
    )
    start_cursor: str | None
    end_cursor: str | None = strawberry.field(description="Pass it as `after` for the next page.")


@strawberry.type(description="One item of a page and the cursor just after it.")
class Edge(Generic[NodeT]):
    @field(description=None)
    def cursor(self) -> str:
        return _cursor(self)

    node: NodeT
    _kind: strawberry.Private[str]
    _row: strawberry.Private[Any]
    _key: strawberry.Private[Callable[[Any], Key]]
    """The row's sort key: encoded into the cursor only when a cursor is asked for."""


def _cursor(edge: Edge[Any]) -> str:
    return encode_cursor(edge._kind, edge._key(edge._row))


@strawberry.type(description="A page of a list, Relay style.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    _total: strawberry.Private[Callable[[], Awaitable[int]]]

    @field(
        description="How many items the whole list holds with the same arguments, on every "
        "page (counted only when asked: one more statement)."
    )
    async def total_count(self) -> int:
        return await self._total()

    @field(description="The page's items, without their cursors.")
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]


def page_size(first: int | None, settings: Settings) -> int:
    """The number of items to return for ``first``."""
    cap = settings.max_page_size
    if first is None:
        return min(DEFAULT_PAGE_SIZE, cap)
    if first < 0 or first > cap:
        raise InvalidPageSize(f"first must be between 0 and {cap}.", field="first")
    return first


def encode_cursor(kind: str, key: Key) -> str:
    raw = orjson.dumps([kind, *key])  # compact JSON, UTF-8
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_cursor(kind: str, cursor: str | None, shape: Sequence[type]) -> Key | None:
    """The key in ``cursor`` (``None`` without one); its items must have the types of
    ``shape`` (``str``, ``int``, or ``date`` carried as an ISO string)."""
    if cursor is None:
        return None
    invalid = InvalidCursor("The cursor is not valid for this list.", field="after")
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (UnicodeError, binascii.Error, ValueError):
        raise invalid from None
    if not isinstance(decoded, list) or len(decoded) != len(shape) + 1 or decoded[0] != kind:
        raise invalid
    key: Key = decoded[1:]
    for value, expected in zip(key, shape, strict=True):
        if expected is date:
            if not isinstance(value, str):
                raise invalid
            try:
                date.fromisoformat(value)
            except ValueError:
                raise invalid from None
        elif type(value) is not expected:
            raise invalid
    return key


def connection(
    rows: Sequence[RowT],
    *,
    kind: str,
    limit: int,
    after: str | None,
    key: Callable[[RowT], Key],
    node: Callable[[RowT], NodeT],
    total: Callable[[], Awaitable[int]],
) -> Connection[NodeT]:
    """A page from ``rows``, fetched with ``limit + 1`` to tell whether more follow;
    ``total`` counts the whole list (called only when ``totalCount`` is asked for)."""
    page = rows[:limit]
    edges = [Edge(node=node(row), _kind=kind, _row=row, _key=key) for row in page]
    return Connection(
        edges=edges,
        _total=total,
        page_info=PageInfo(
            has_next_page=len(rows) > limit,
            has_previous_page=after is not None,
            start_cursor=_cursor(edges[0]) if edges else None,
            end_cursor=_cursor(edges[-1]) if edges else None,
        ),
    )
