"""A typed spelling of ``strawberry.field(description=...)``.

Strawberry types the decorator *with arguments* as ``Any`` (strawberry#1929), which
``mypy --strict`` reports as "untyped decorator". This returns the same Strawberry decorator,
typed as preserving the resolver's signature::

    from api.fields import field

    @field(description="The level right above this one; null at the top.")
    def next_level(self) -> Level | None: ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import strawberry

F = TypeVar("F", bound=Callable[..., Any])


def field(*, description: str | None = None) -> Callable[[F], F]:
    return cast("Callable[[F], F]", strawberry.field(description=description))
