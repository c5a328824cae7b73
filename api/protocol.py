"""uvicorn's HTTP protocol with the two timeouts it lacks: a request's headers, and its body.

uvicorn closes an idle keep-alive connection (``timeout_keep_alive``) but waits forever for
a request whose headers or body trickle in a byte at a time (slowloris): 200 such
connections held a server for as long as the attacker liked. Here a connection must
deliver a request's headers within ``LADDER_HEADER_TIMEOUT`` seconds of its first byte (or
of the connection opening), and the body within ``LADDER_BODY_TIMEOUT`` seconds of the
headers; otherwise it is closed. ``ladder serve`` passes this class to uvicorn as ``http``.
"""

from __future__ import annotations

import asyncio
from functools import cache

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.settings import get_settings


@cache
def _timeouts() -> tuple[float, float]:
    settings = get_settings()
    return settings.header_timeout, settings.body_timeout


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` that closes connections too slow to send a request."""

    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(_timeouts()[0])

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:
            self._arm(_timeouts()[0])

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        upgrading = self.parser.should_upgrade() and self._should_upgrade()
        if not upgrading and not self.transport.is_closing():
            self._arm(_timeouts()[1])

    def handle_websocket_upgrade(self) -> None:
        self._disarm()  # the WebSocket protocol takes over (with its own ping timeout)
        super().handle_websocket_upgrade()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        self._disarm()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.cycle is not None and not self.cycle.response_complete:
            # The app is waiting for the body: tell it the client is gone.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        if not self.transport.is_closing():
            self.transport.close()
