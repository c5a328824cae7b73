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
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from sqlalchemy.engine import URL

from events.port import EventStore, RecordedEvent

log = logging.getLogger(__name__)

CHANNEL = "ladder_events"


class Notifier:
    """In-process fan-out of the log's position, optionally bridged over PostgreSQL.

    The PostgreSQL channel is per schema (``ladder_events_<schema>``): NOTIFY is
    database-wide, and a position heard from another schema's log would push this one's
    past positions it has not reached, silencing its wake-ups.
    """

    def __init__(self, *, reconnect_delay: float = 1.0) -> None:
        self._position = 0
        self._advanced = asyncio.Event()
        self._listener: Any = None  # an asyncpg connection while listening
        self._publishing = asyncio.Lock()  # one statement at a time on that connection
        self._channel = CHANNEL
        self._connect: Callable[[], Awaitable[Any]] | None = None
        self._reconnect_delay = reconnect_delay
        self._reconnecting: asyncio.Task[None] | None = None
        self._closed = False
        self._to_publish = 0
        self._published = 0
        self._publisher: asyncio.Task[None] | None = None

    @property
    def position(self) -> int:
        """The highest position this process has heard of."""
        return self._position

    @property
    def channel(self) -> str:
        return self._channel

    @property
    def listening(self) -> bool:
        return self._listener is not None

    def advance(self, position: int) -> None:
        """The log reached ``position``: wake every waiter (never blocks)."""
        if position <= self._position:
            return
        self._position = position
        woken, self._advanced = self._advanced, asyncio.Event()
        woken.set()

    async def on_append(self, events: list[RecordedEvent]) -> None:
        """The store's after-commit listener: ``store.add_listener(notifier.on_append)``.

        Waiters here wake at once; other processes hear of the position from a task that
        publishes the highest position reached (one ``pg_notify`` for the appends that
        committed while the previous one was on its way), so no command waits for it."""
        if not events:
            return
        position = events[-1].position
        self.advance(position)
        if self._listener is not None:
            self._to_publish = max(self._to_publish, position)
            if self._publisher is None or self._publisher.done():
                self._publisher = asyncio.create_task(self._publish())

    async def _publish(self) -> None:
        while self._published < self._to_publish and self._listener is not None:
            position = self._to_publish
            try:
                async with self._publishing:
                    await self._listener.execute(
                        "SELECT pg_notify($1, $2)", self._channel, str(position)
                    )
            except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError):
                log.warning("could not publish position %s on %s", position, self._channel)
            self._published = position

    async def wait(self, after: int, at_most: float) -> int:
        """Return the position once it passes ``after``, or after ``at_most`` seconds."""
        if self._position > after:
            return self._position
        # ``asyncio.timeout``, not ``wait_for``: no inner task, so a waiter cancelled while
        # its timeout fires stops (3.11's ``wait_for`` could leave it hanging at shutdown).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(at_most):
                await self._advanced.wait()
        return self._position

    # --- PostgreSQL LISTEN/NOTIFY ---------------------------------------------------------

    async def listen(self, url: URL, schema: str | None = None) -> None:
        """LISTEN on the schema's channel with a dedicated asyncpg connection to ``url``.

        Appends in this process are published on the same connection (``pg_notify``
        after commit), and other processes' appends wake this one's followers. When the
        connection drops, it is re-established in the background (followers poll
        meanwhile).
        """
        if self._listener is not None:
            return
        if schema:
            self._channel = f"{CHANNEL}_{schema}"[:63]  # PostgreSQL identifiers: 63 bytes

        async def connect() -> Any:
            return await asyncpg.connect(
                user=url.username,
                password=url.password,
                host=url.host,
                port=url.port,
                database=url.database,
            )

        self._connect = connect
        self._closed = False
        await self._open()

    async def _open(self) -> None:
        if self._connect is None:
            return
        conn = await self._connect()
        await conn.add_listener(self._channel, self._heard)
        conn.add_termination_listener(self._lost)
        self._listener = conn

    def _lost(self, _conn: object) -> None:
        self._listener = None
        if not self._closed and self._reconnecting is None:
            self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        try:
            while not self._closed and self._listener is None:
                await asyncio.sleep(self._reconnect_delay)
                try:
                    await self._open()
                    log.info("listening on %s again", self._channel)
                except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError):
                    log.warning("could not listen on %s yet; polling meanwhile", self._channel)
        finally:
            self._reconnecting = None

    def _heard(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            self.advance(int(payload))
        except ValueError:
            log.warning("ignored a malformed %s payload: %r", self._channel, payload)

    async def close(self) -> None:
        self._closed = True
        if self._publisher is not None:  # the last positions still go out
            with contextlib.suppress(Exception):
                await self._publisher
        task, self._reconnecting = self._reconnecting, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
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
