"""Probe root fields the e2e tests add to the schema (never part of the real API)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry

from api.context import Info


class ProbeLog:
    """What the probe mutation did, so tests can assert nothing ran."""

    calls: list[str] = []


@strawberry.type
class ProbeQuery:
    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError("connection to postgresql://admin:hunter2@db failed")

    @strawberry.field
    def echo(self, text: str) -> str:
        return text


@strawberry.type
class ProbeMutation:
    @strawberry.mutation
    def record_probe(self, note: str) -> str:
        ProbeLog.calls.append(note)
        return note


@strawberry.type
class ProbeSubscription:
    @strawberry.subscription
    async def ticks(self, count: int) -> AsyncGenerator[int, None]:
        for tick in range(count):
            yield tick
            await asyncio.sleep(0)

    @strawberry.subscription
    async def whoami(self, info: Info) -> AsyncGenerator[str, None]:
        principal = info.context.principal
        yield "anonymous" if principal is None else f"{principal.role.value}:{principal.subject}"

    @strawberry.subscription
    async def explode(self) -> AsyncGenerator[int, None]:
        yield 1
        raise RuntimeError("secret internals")
