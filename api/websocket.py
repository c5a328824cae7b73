"""The two WebSocket subprotocols, with what subscriptions need beyond Strawberry's handlers.

* **"From now on" is fixed at subscribe.** When the server reads a ``subscribe``
  (``graphql-transport-ws``) or ``start`` (legacy ``graphql-ws``) message, it reads the
  log's last position before it reads the next message of the connection, and a
  subscription without ``afterPosition`` starts there: every event committed after that
  is delivered, however late the subscription's own task starts. A client that wants a
  proof sends any later message (a ``ping``, answered by ``pong``) and waits for its
  answer; or it reads ``logPosition`` first and subscribes with ``afterPosition``.
* **An expired token ends the connection.** At the ``exp`` of the token given in
  ``connection_init`` (plus the 30 s leeway every token gets), the server stops the
  connection's operations and closes it with code ``4401`` ("Token expired") on both
  subprotocols. The client reconnects with a fresh token and resumes with
  ``afterPosition``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from api.auth import LEEWAY
from api.context import Context
from events.port import EventStore

TOKEN_EXPIRED_CLOSE_CODE = 4401
EXPIRED_CLOSE_REASON = "Token expired"

SUBSCRIBED_AT: ContextVar[int | None] = ContextVar("subscribed_at", default=None)
"""The log position read when the server received the operation's subscribe message.

Set in the connection's task just before the operation's task is created, which copies it.
"""


OPERATION: ContextVar[tuple[str, str] | None] = ContextVar("operation", default=None)
"""The operation's id and the type of its result messages (``next``, legacy ``data``),
set like :data:`SUBSCRIBED_AT`: a subscription's live results may be written to the
connection's outbox directly (``api.fanout``)."""


def mark_operation(message: Any, result_type: str) -> None:
    """Remember the operation's id and result message type for its task."""
    op_id = message.get("id") if isinstance(message, dict) else None
    OPERATION.set((op_id, result_type) if isinstance(op_id, str) else None)


class LastPosition:
    """``store.last_position()`` for many subscribe messages at once: each caller gets a
    read that started after it asked (so it sees every event committed before), and the
    callers who ask while a read runs share the next one; a burst of subscribes costs two
    queries at a time, not one each."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._running: asyncio.Future[int] | None = None
        self._next: asyncio.Future[int] | None = None

    async def read(self) -> int:
        if self._running is None:
            return await asyncio.shield(self._start())
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            self._next.add_done_callback(_retrieved)
        return await asyncio.shield(self._next)

    def _start(self) -> asyncio.Future[int]:
        running = asyncio.ensure_future(self.store.last_position())
        running.add_done_callback(self._finished)
        self._running = running
        return running

    def _finished(self, done: asyncio.Future[int]) -> None:
        _retrieved(done)
        self._running = None
        waiting, self._next = self._next, None
        if waiting is None:
            return

        def hand_over(read: asyncio.Future[int]) -> None:
            if waiting.done():
                return
            if read.cancelled():
                waiting.cancel()
            elif (error := read.exception()) is not None:
                waiting.set_exception(error)
            else:
                waiting.set_result(read.result())

        self._start().add_done_callback(hand_over)


def _retrieved(done: asyncio.Future[int]) -> None:
    if not done.cancelled():
        done.exception()


_LAST_POSITIONS: WeakKeyDictionary[EventStore, LastPosition] = WeakKeyDictionary()


async def fix_start(context: Context) -> None:
    """Remember where the log ends now, for the operation about to be started."""
    services = context.services
    if services is not None:
        store = services.store
        reads = _LAST_POSITIONS.get(store)
        if reads is None:
            reads = _LAST_POSITIONS[store] = LastPosition(store)
        SUBSCRIBED_AT.set(await reads.read())


def seconds_left(context: Context) -> float | None:
    """Seconds until the connection's token stops being accepted; None without a token."""
    principal = context.principal
    if principal is None or principal.expires_at is None:
        return None
    left = principal.expires_at + LEEWAY - datetime.now(UTC)
    return max(0.0, left.total_seconds())


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """``graphql-transport-ws``: the start position fixed at subscribe, closed on expiry."""

    _expiry: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        left = seconds_left(self.context)
        if self.connection_acknowledged and left is not None and self._expiry is None:
            self._expiry = asyncio.create_task(
                close_when_expired(
                    left, lambda: self.operations, self.cleanup_operation, self.websocket
                )
            )

    async def handle_subscribe(self, message: Any) -> None:
        await fix_start(self.context)
        mark_operation(message, "next")
        await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        await _stop(self._expiry)
        await super().shutdown()


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """Legacy ``graphql-ws``: the same two additions."""

    _expiry: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        left = seconds_left(self.context)
        if self.connection_acknowledged and left is not None and self._expiry is None:
            self._expiry = asyncio.create_task(
                close_when_expired(left, lambda: self.tasks, self.cleanup_operation, self.websocket)
            )

    async def handle_start(self, message: Any) -> None:
        await fix_start(self.context)
        mark_operation(message, "data")
        await super().handle_start(message)

    async def cleanup(self) -> None:
        await _stop(self._expiry)
        await super().cleanup()


async def close_when_expired(
    delay: float,
    operations: Callable[[], Iterable[str]],
    cleanup: Callable[[str], Awaitable[None]],
    websocket: Any,
) -> None:
    """After ``delay`` (the token's remaining life) stop every operation and close with
    ``TOKEN_EXPIRED_CLOSE_CODE``; the same for both subprotocols."""
    await asyncio.sleep(delay)
    for operation_id in list(operations()):
        await cleanup(operation_id)
    with suppress(RuntimeError):
        await websocket.close(TOKEN_EXPIRED_CLOSE_CODE, EXPIRED_CLOSE_REASON)


async def _stop(task: asyncio.Task[None] | None) -> None:
    if task is None or task is asyncio.current_task():
        return
    task.cancel()
    with suppress(BaseException):
        await task
