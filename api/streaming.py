"""Following the log for subscriptions: replay after a position, then live.

Live events come from the log's shared tail (:mod:`api.tail`): one read per wake-up of the
notifier for every subscriber, kept in a bounded window that each subscriber walks on its
own cursor, so a slow subscriber slows neither the writers nor the other subscribers. A
subscriber behind the window (a replay, or one that fell far behind) reads the log itself;
:class:`SharedReads` lets concurrent identical reads share one query (a subscriber only
joins a read that started after everything it must see). Positions are gap-free and in
commit order, so reading by position never skips an event and never yields one twice, at
the switch from replay to live or anywhere.

:class:`Visibility` checks each event against the subscriber's rights before it is sent;
:func:`visibility_class` says which subscribers see alike (they share the execution of a
result, ``api.fanout``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence

from api.auth import Principal, Role
from api.context import Context
from api.scopes import subject_id
from api.services import AppServices
from api.tail import join_tail, leave_tail
from api.websocket import SUBSCRIBED_AT
from events.notifier import Notifier
from events.port import EventStore, RecordedEvent

# Events that change who reports to whom: a manager's visible set is refreshed after one.
ORG_CHART_TYPES = ("PersonHired", "PersonRehired", "ManagerChanged", "EventCorrected")
REPORTS_TTL_SECONDS = 2.0
"""How long a manager's reports are reused; the read model may trail the log a little."""


class Visibility:
    """Whether a subscriber may see a person's events, with a manager's reports cached."""

    def __init__(self, principal: Principal, services: AppServices) -> None:
        self.principal = principal
        self.services = services
        self.me = subject_id(principal)
        self._reports: frozenset[str] | None = None
        self._fetched_at = 0.0

    def org_chart_changed(self) -> None:
        self._reports = None

    async def can_see(self, person_id: str) -> bool:
        if self.principal.can_read_everything or person_id == self.me:
            return True
        if self.principal.role is not Role.MANAGER:
            return False
        now = time.monotonic()
        if self._reports is None or now - self._fetched_at > REPORTS_TTL_SECONDS:
            self._reports = frozenset(await self.services.reports_of(self.me))
            self._fetched_at = now
        return person_id in self._reports


def visibility_class(principal: Principal) -> tuple[str, str]:
    """Subscribers of one class see exactly the same people, in which events reach them
    (:class:`Visibility`) and in what the fields of a result show (``api.scopes``): HR and
    auditors everyone (kept apart by role all the same), anyone else by who they are (a
    manager: themselves and their reports; an employee: themselves)."""
    if principal.can_read_everything:
        return (principal.role.value, "*")
    return (principal.role.value, subject_id(principal))


ReadKey = tuple[EventStore, int, int, tuple[str, ...] | None]


class SharedReads:
    """Concurrent identical ``read_all`` calls share one query."""

    def __init__(self) -> None:
        self._inflight: dict[ReadKey, tuple[int, asyncio.Future[list[RecordedEvent]]]] = {}

    async def read_all(
        self,
        store: EventStore,
        after: int,
        limit: int,
        types: tuple[str, ...] | None,
        heard: int,
    ) -> list[RecordedEvent]:
        """``store.read_all(after, limit, types)``, seeing at least position ``heard``."""
        key: ReadKey = (store, after, limit, types)
        found = self._inflight.get(key)
        if found is None or found[0] < heard:
            future = asyncio.ensure_future(
                store.read_all(after, limit, None if types is None else list(types))
            )
            found = (heard, future)
            self._inflight[key] = found

            def forget(done: asyncio.Future[list[RecordedEvent]], key: ReadKey = key) -> None:
                current = self._inflight.get(key)
                if current is not None and current[1] is done:
                    del self._inflight[key]
                if not done.cancelled():
                    done.exception()  # retrieved here too, in case every reader left

            future.add_done_callback(forget)
        return await asyncio.shield(found[1])


SHARED_READS = SharedReads()

EventFilter = Callable[[RecordedEvent], bool]


async def follow(
    store: EventStore,
    after_position: int,
    notifier: Notifier,
    keep: EventFilter | None = None,
    *,
    types: Sequence[str] | None = None,
    batch_size: int = 500,
    on_idle: Callable[[int], bool] | None = None,
) -> AsyncIterator[RecordedEvent]:
    """Events after ``after_position`` (of ``types``, passing ``keep``), then live ones.

    Inside the log's shared tail (``api.tail``) the events come from memory, read once per
    wake-up for every follower; behind it, from the follower's own (shared) reads. Runs
    until the consumer stops, or until ``on_idle`` returns true: it is called, before
    waiting for new events, with the position everything up to which was yielded or passed
    over (the log's end as the tail knows it).
    """
    position = after_position
    wanted = None if types is None else frozenset(types)
    type_key = None if types is None else tuple(types)
    tail = await join_tail(store, notifier)
    try:
        while True:
            found = tail.after(position)
            if found is None:
                # Behind the window: a read that starts after the tail reached ``seen``
                # sees everything up to it, so a short read brings us into the window.
                seen = tail.end
                events = await SHARED_READS.read_all(store, position, batch_size, type_key, seen)
                reached = seen if len(events) < batch_size else position
            else:
                events, reached = found
                if not events:
                    if on_idle is not None and on_idle(position):
                        return
                    await tail.grown(position)
                    continue
            for event in events:
                position = event.position
                if (wanted is None or event.type in wanted) and (keep is None or keep(event)):
                    yield event
            position = max(position, reached)
    finally:
        leave_tail(store, tail)


def owner_of(event: RecordedEvent) -> str | None:
    """The person whose stream holds ``event`` (``None`` for ladder streams)."""
    category, _, raw = event.stream.partition("-")
    return raw if category == "person" else None


async def start_position(services: AppServices, after_position: int | None) -> int:
    """``afterPosition`` as given, or where the log ended when the subscribe message was
    read (``api.websocket``), or else its current end: live events only."""
    if after_position is not None:
        return after_position
    fixed = SUBSCRIBED_AT.get()
    if fixed is not None:
        return fixed
    return await services.store.last_position()


async def follow_types(
    context: Context,
    after_position: int,
    types: Sequence[str],
    on_idle: Callable[[int], bool] | None = None,
) -> AsyncIterator[RecordedEvent]:
    """Events of ``types`` after ``after_position``, replayed then live."""
    services = context.require_services()
    async for event in follow(
        services.store, after_position, services.runtime.notifier, types=types, on_idle=on_idle
    ):
        yield event


async def follow_stream(
    context: Context,
    stream: str,
    after_position: int,
    on_idle: Callable[[int], bool] | None = None,
) -> AsyncIterator[RecordedEvent]:
    """Events of one stream after ``after_position``, replayed then live.

    The replay reads the stream (an index lookup, not a log scan); the live part follows
    the log from the end of the replay. Positions are assigned in commit order, so the
    stream snapshot holds every stream event up to the last position it shows, and
    following from there misses nothing and repeats nothing.
    """
    services = context.require_services()
    store = services.store
    resume_from = max(after_position, await store.last_position())
    for event in await store.read_stream(stream):
        if event.position > after_position:
            resume_from = max(resume_from, event.position)
            yield event
    async for event in follow(
        store,
        resume_from,
        services.runtime.notifier,
        lambda e: e.stream == stream,
        on_idle=on_idle,
    ):
        yield event
