"""Following the log for subscriptions: replay after a position, then live, per subscriber.

Every subscription reads the log on its own cursor (``events.notifier.follow``); the
notifier only wakes them, so a slow subscriber slows neither the writers nor the other
subscribers. Positions are gap-free and in commit order, so reading by position never
skips an event and never yields one twice, at the switch from replay to live or anywhere.

:class:`Visibility` checks each event against the subscriber's rights before it is sent.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence

from api.auth import Principal, Role
from api.context import Context
from api.scopes import subject_id
from api.services import RuntimeServices, read_services
from events.notifier import follow
from events.port import RecordedEvent

# Events that change who reports to whom: a manager's visible set is refreshed after one.
ORG_CHART_TYPES = ("PersonHired", "PersonRehired", "ManagerChanged", "EventCorrected")
REPORTS_TTL_SECONDS = 2.0
"""How long a manager's reports are reused; the read model may trail the log a little."""


class Visibility:
    """Whether a subscriber may see a person's events, with a manager's reports cached."""

    def __init__(self, principal: Principal, services: RuntimeServices) -> None:
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


def owner_of(event: RecordedEvent) -> str | None:
    """The person whose stream holds ``event`` (``None`` for ladder streams)."""
    category, _, raw = event.stream.partition("-")
    return raw if category == "person" else None


async def start_position(services: RuntimeServices, after_position: int | None) -> int:
    """``afterPosition`` as given, or the log's current end (live events only)."""
    if after_position is not None:
        return after_position
    return await services.store.last_position()


async def follow_types(
    context: Context, after_position: int, types: Sequence[str]
) -> AsyncIterator[RecordedEvent]:
    """Events of ``types`` after ``after_position``, replayed then live."""
    services = read_services(context)
    async for event in follow(
        services.store, after_position, services.runtime.notifier, types=list(types)
    ):
        yield event


async def follow_stream(
    context: Context, stream: str, after_position: int
) -> AsyncIterator[RecordedEvent]:
    """Events of one stream after ``after_position``, replayed then live.

    The replay reads the stream (an index lookup, not a log scan); the live part follows
    the log from the end of the replay. Positions are assigned in commit order, so the
    stream snapshot holds every stream event up to the last position it shows, and
    following from there misses nothing and repeats nothing.
    """
    services = read_services(context)
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
    ):
        yield event
