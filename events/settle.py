"""Handing results back to callers that wait on futures (the store's readers and writer)."""

from __future__ import annotations

import asyncio
from typing import Any

Outcome = tuple[asyncio.Future[Any], Any, BaseException | None]
"""A caller's future with its value or the error it gets."""


def settle(outcomes: list[Outcome]) -> None:
    """Settle each future (on its own loop); one whose caller gave up (cancelled) stays
    as it is: the outcome of what it asked for stands."""
    for future, value, error in outcomes:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)
