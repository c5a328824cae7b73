"""A WebSocket connection's bounded outgoing queue, and the close of a subscriber too slow
to empty it.

Every message for a connection (results, pings, acks, errors) is put on its queue and
written, in order, by one writer task; putting never waits. When the socket cannot take
more (the client stopped reading, its TCP window and the server's write buffer are full),
the writer waits and the queue grows. Once it holds ``capacity`` messages the connection
is given up: the queued messages are dropped, its subscriptions stop, and the socket is
closed with code ``4503`` and reason ``"Too slow: resume with afterPosition"`` (the close
frame goes out when the socket can take it again, or the connection is dropped by the
ping timeout). Nothing else waits on a slow client: the log is followed per subscription,
and the writers never see a WebSocket. The client reconnects and resumes with
``afterPosition`` set to the last position it received.
"""

from __future__ import annotations

import asyncio
from collections import deque
from contextlib import suppress

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

OUTBOX_KEY = "ladder.outbox"
"""Where a connection's :class:`Outbox` is kept in its ASGI scope."""
SLOW_CONSUMER_CLOSE_CODE = 4503
SLOW_CONSUMER_CLOSE_REASON = "Too slow: resume with afterPosition"


class Outbox:
    """Writes text frames to ``ws`` in order; gives up on the connection past ``capacity``."""

    def __init__(self, ws: WebSocket, capacity: int) -> None:
        self.ws = ws
        self.capacity = capacity
        self.overflowed = asyncio.Event()
        """Set once the queue filled: the connection is being closed as too slow."""
        self._queue: deque[str] = deque()
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._writer: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None

    def put(self, text: str) -> None:
        """Queue ``text`` for the socket; never waits. Dropped once the connection is
        being closed."""
        if self.overflowed.is_set() or (self._writer is not None and self._writer.done()):
            return  # given up, or the peer is gone: nothing more can be written
        if len(self._queue) >= self.capacity:
            self._give_up()
            return
        self._queue.append(text)
        self._idle.clear()
        self._ready.set()
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())

    async def flushed(self) -> None:
        """Wait until everything queued so far is written (or the connection gave up)."""
        if self._idle.is_set() or self.overflowed.is_set():
            return
        idle = asyncio.ensure_future(self._idle.wait())
        gave_up = asyncio.ensure_future(self.overflowed.wait())
        try:
            await asyncio.wait((idle, gave_up), return_when=asyncio.FIRST_COMPLETED)
        finally:
            idle.cancel()
            gave_up.cancel()

    async def _write(self) -> None:
        try:
            while True:
                await self._ready.wait()
                while self._queue:
                    text = self._queue[0]
                    await self.ws.send_text(text)
                    self._queue.popleft()
                self._ready.clear()
                self._idle.set()
        except (WebSocketDisconnect, RuntimeError, OSError):
            # The peer left (uvicorn raises ClientDisconnected, an OSError) or the socket
            # was closed by the application: nothing more can be written.
            self._queue.clear()
            self._ready.clear()
            self._idle.set()

    def _give_up(self) -> None:
        self.overflowed.set()
        self._queue.clear()
        self._ready.clear()
        if self._writer is not None:
            # The writer waits for the socket to drain before it writes a frame (uvicorn's
            # flow control), so cancelling it never leaves half a frame on the wire.
            self._writer.cancel()
        self._closing = asyncio.create_task(self._close())

    async def _close(self) -> None:
        if self._writer is not None:
            with suppress(BaseException):
                await self._writer
        if self.ws.application_state == WebSocketState.DISCONNECTED:
            return
        with suppress(WebSocketDisconnect, RuntimeError, OSError):
            await self.ws.close(SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_CLOSE_REASON)

    async def finish(self) -> None:
        """At the end of the connection: stop writing; wait for a too-slow close to go
        out (it ends when the frame is written or the connection is lost)."""
        if self._writer is not None and not self._writer.done():
            self._writer.cancel()
            with suppress(BaseException):
                await self._writer
        if self._closing is not None:
            with suppress(BaseException):
                await self._closing


def outbox_of(ws: object) -> Outbox | None:
    """The outgoing queue of WebSocket ``ws``, once it has one."""
    scope = getattr(ws, "scope", None)
    found = scope.get(OUTBOX_KEY) if isinstance(scope, dict) else None
    return found if isinstance(found, Outbox) else None
