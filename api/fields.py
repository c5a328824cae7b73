"""Typed spellings of ``strawberry.field(...)``, ``mutation(...)`` and ``subscription(...)``.

Strawberry types the decorator *with arguments* as ``Any`` (strawberry#1929), which
``mypy --strict`` reports as "untyped decorator". These return the same Strawberry decorator,
typed as preserving the resolver's signature::

    from api.fields import field

    @field(description="The level right above this one; null at the top.")
    def next_level(self) -> Level | None: ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import strawberry
from strawberry.permission import BasePermission

F = TypeVar("F", bound=Callable[..., Any])


def field(
    *,
    description: str | None = None,
    name: str | None = None,
    deprecation_reason: str | None = None,
    permission_classes: list[type[BasePermission]] | None = None,
) -> Callable[[F], F]:
    return cast(
        "Callable[[F], F]",
        strawberry.field(
            description=description,
            name=name,
            deprecation_reason=deprecation_reason,
            permission_classes=permission_classes,
        ),
    )


def mutation(
    *,
    description: str | None = None,
    name: str | None = None,
    deprecation_reason: str | None = None,
    permission_classes: list[type[BasePermission]] | None = None,
) -> Callable[[F], F]:
    return cast(
        "Callable[[F], F]",
        strawberry.mutation(
            description=description,
            name=name,
            deprecation_reason=deprecation_reason,
            permission_classes=permission_classes,
        ),
    )


def subscription(
    *,
    description: str | None = None,
    name: str | None = None,
    deprecation_reason: str | None = None,
    permission_classes: list[type[BasePermission]] | None = None,
) -> Callable[[F], F]:
    return cast(
        "Callable[[F], F]",
        strawberry.subscription(
            description=description,
            name=name,
            deprecation_reason=deprecation_reason,
            permission_classes=permission_classes,
        ),
    )
