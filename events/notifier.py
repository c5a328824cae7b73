"""Waking followers when the log advances, and following the log with no gap.

The ``Notifier`` carries one fact, "the log reached position N", to whoever waits. It is
fed by live appends only (the store's after-commit listener, and on PostgreSQL the
``ladder_events`` channel, so processes learn of each other's appends); a rebuild or a
replay never feeds it. It only wakes: every follower reads the log itself, from its own
position, so a slow follower slows neither the writers nor the other followers, and a
lost wake-up costs at most ``poll_interval`` (the polling fallback).

``follow`` replays the log after a position and then follows it live. Positions are
gap-free and in commit order, so reading by position never skips an event and never
yields one twice, at the switch from replay to live or anywhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any

import asyncpg
from sqlalchemy.engine import URL

from events.port import EventStore, RecordedEvent

log = logging.getLogger(__name__)

CHANNEL = "ladder_events"


class Notifier:
    """In-process fan-out of the log's position, optionally bridged over PostgreSQL."""

    def __init__(self) -> None:
        self._position = 0
        self._advanced = asyncio.Event()
        self._listener: Any = None  # an asyncpg connection while listening
        self._publishing = asyncio.Lock()  # one statement at a time on that connection

    @property
    def position(self) -> int:
        """The highest position this process has heard of."""
        return self._position

    def advance(self, position: int) -> None:
        """The log reached ``position``: wake every waiter (never blocks)."""
        if position <= self._position:
            return
        self._position = position
        woken, self._advanced = self._advanced, asyncio.Event()
        woken.set()

    async def on_append(self, events: list[RecordedEvent]) -> None:
        """The store's after-commit listener: ``store.add_listener(notifier.on_append)``."""
        if not events:
            return
        position = events[-1].position
        self.advance(position)
        if self._listener is not None:
            try:
                async with self._publishing:
                    await self._listener.execute("SELECT pg_notify($1, $2)", CHANNEL, str(position))
            except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError):
                log.warning("could not publish position %s on %s", position, CHANNEL)

    async def wait(self, after: int, at_most: float) -> int:
        """Return the position once it passes ``after``, or after ``at_most`` seconds."""
        if self._position > after:
            return self._position
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._advanced.wait(), at_most)
        return self._position

    # --- PostgreSQL LISTEN/NOTIFY ---------------------------------------------------------

    async def listen(self, url: URL) -> None:
        """LISTEN on ``ladder_events`` with a dedicated asyncpg connection to ``url``.

        Appends in this process are published on the same connection (``pg_notify``
        after commit), and other processes' appends wake this one's followers.
        """
        if self._listener is not None:
            return
        conn = await asyncpg.connect(
            user=url.username,
            password=url.password,
            host=url.host,
            port=url.port,
            database=url.database,
        )
        await conn.add_listener(CHANNEL, self._heard)
        self._listener = conn

    def _heard(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            self.advance(int(payload))
        except ValueError:
            log.warning("ignored a malformed %s payload: %r", CHANNEL, payload)

    async def close(self) -> None:
        conn, self._listener = self._listener, None
        if conn is not None:
            await conn.close()


EventFilter = Callable[[RecordedEvent], bool]


async def follow(
    store: EventStore,
    after_position: int,
    notifier: Notifier,
    filter: EventFilter | None = None,
    *,
    types: Sequence[str] | None = None,
    batch_size: int = 500,
    poll_interval: float = 1.0,
) -> AsyncGenerator[RecordedEvent, None]:
    """Events after ``after_position`` (of ``types``, passing ``filter``), then live ones.

    Runs until the consumer stops iterating. Each event carries its position, so a
    consumer that drops can resume exactly where it was.
    """
    position = after_position
    while True:
        # Everything committed up to ``heard`` is visible to the read below; waiting for a
        # position past it (not past ``position``) avoids spinning on filtered-out events.
        heard = notifier.position
        events = await store.read_all(after_position=position, limit=batch_size, types=types)
        for event in events:
            position = event.position
            if filter is None or filter(event):
                yield event
        if len(events) < batch_size:
            await notifier.wait(max(heard, position), poll_interval)
