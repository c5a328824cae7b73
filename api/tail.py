"""The log's tail, read once per wake-up for every live subscriber of a store.

A :class:`LogTail` is one task per store that reads the events appended since its last
read (all types, one query per wake-up of the notifier, however many subscribers follow
the log) and keeps the most recent ones in a bounded window. A subscriber whose position
is inside the window takes its next events from memory; one that is behind it (a replay,
or a subscriber that fell more than the window behind) reads the log on its own until it
reaches the window. The tail starts with its first follower and stops with its last.

Positions are gap-free and assigned in commit order, so the window covers every event in
``(start, end]`` and a follower that moves from its own reads into the window (or back)
never skips an event and never yields one twice.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from contextlib import suppress
from weakref import WeakKeyDictionary

from events.notifier import Notifier
from events.port import EventStore, RecordedEvent

WINDOW = 10_000
"""Events kept in memory; a follower further behind reads the log on its own."""


class LogTail:
    """The events after ``start`` up to ``end``, kept current by one reader task."""

    def __init__(
        self,
        store: EventStore,
        notifier: Notifier,
        end: int,
        *,
        window: int = WINDOW,
        batch_size: int = 500,
        poll_interval: float = 1.0,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.start = end
        self.end = end
        self.window = window
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.reads = 0
        """Queries the tail has run (for tests and benchmarks)."""
        self.error: BaseException | None = None
        self._events: list[RecordedEvent] = []
        self._positions: list[int] = []
        self._grew = asyncio.Event()
        self._followers = 0
        self._task: asyncio.Task[None] | None = None

    def after(self, position: int) -> tuple[list[RecordedEvent], int] | None:
        """The window's events after ``position`` and the position they reach (``end``),
        or ``None`` when ``position`` is before the window."""
        if position < self.start:
            return None
        index = bisect_right(self._positions, position)
        return self._events[index:], max(self.end, position)

    async def grown(self, past: int) -> None:
        """Wait until the tail reaches past ``past``; raise what stopped the tail."""
        while self.end <= past:
            if self.error is not None:
                raise self.error
            await self._grew.wait()

    def join(self) -> None:
        self._followers += 1
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    def leave(self) -> bool:
        """One follower fewer; True when it was the last (the reader stops)."""
        self._followers -= 1
        if self._followers > 0:
            return False
        if self._task is not None:
            self._task.cancel()
        return True

    async def _run(self) -> None:
        try:
            while True:
                events = await self.store.read_all(self.end, self.batch_size, None)
                self.reads += 1
                if events:
                    self._extend(events)
                if len(events) < self.batch_size:
                    await self.notifier.wait(self.end, self.poll_interval)
        except Exception as exc:  # handed to every follower, each of which fails with it
            self.error = exc
            self._wake()

    def _extend(self, events: list[RecordedEvent]) -> None:
        self._events.extend(events)
        self._positions.extend(e.position for e in events)
        self.end = events[-1].position
        if len(self._events) > 2 * self.window:
            drop = len(self._events) - self.window
            self.start = self._positions[drop - 1]
            del self._events[:drop]
            del self._positions[:drop]
        self._wake()

    def _wake(self) -> None:
        woken, self._grew = self._grew, asyncio.Event()
        woken.set()


_TAILS: WeakKeyDictionary[EventStore, LogTail] = WeakKeyDictionary()


async def join_tail(store: EventStore, notifier: Notifier) -> LogTail:
    """The running tail of ``store`` (started at the log's end if there is none)."""
    tail = _TAILS.get(store)
    if tail is None or tail.error is not None:
        end = await store.last_position()
        tail = _TAILS.get(store)  # another follower may have started one meanwhile
        if tail is None or tail.error is not None:
            tail = LogTail(store, notifier, end)
            _TAILS[store] = tail
    tail.join()
    return tail


def leave_tail(store: EventStore, tail: LogTail) -> None:
    if tail.leave() and _TAILS.get(store) is tail:
        with suppress(KeyError):
            del _TAILS[store]
