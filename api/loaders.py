"""The request's DataLoaders: each batch of keys is ONE SQL statement.

Loaders live in the ``Context`` (one per request over HTTP, uncached per WebSocket
event), keyed by the batch method of the read queries, so every resolver of a request
shares them and a page of 100 people costs the same number of statements as a page of 10.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from strawberry.dataloader import DataLoader

from api.context import Context
from api.types.ladder import Level
from domain.ladder import Ladder
from events.readmodels.views import MentorshipView, PersonView, RotationView, TimelineEntry


def people(context: Context) -> DataLoader[str, PersonView | None]:
    return context.loader(context.require_services().queries.people_batch)


def prime_people(context: Context, rows: Sequence[PersonView]) -> None:
    """People already read (a page of ``people``): the ``people`` loader serves them
    without a statement, if this request uses it at all."""
    batch = context.require_services().queries.people_batch
    context.prime(batch, lambda: {row.person_id: row for row in rows})


def ladders(context: Context) -> DataLoader[str, Ladder | None]:
    return context.loader(context.require_services().queries.ladders_batch)


def prime_ladders(context: Context, ladders: Mapping[str, Ladder | None]) -> None:
    """Current ladders already found (``ReadModelQueries.ladders_at``): the ``ladders``
    loader serves them without a statement, if this request uses it at all."""
    context.prime(context.require_services().queries.ladders_batch, lambda: ladders)


def mentored_by(context: Context) -> DataLoader[str, list[MentorshipView]]:
    """Mentor id -> their active mentorships."""
    return context.loader(context.require_services().queries.mentored_batch)


def mentoring(context: Context) -> DataLoader[str, list[MentorshipView]]:
    """Mentee id -> their active mentorships as mentee."""
    return context.loader(context.require_services().queries.mentoring_batch)


def mentorships(context: Context) -> DataLoader[str, MentorshipView | None]:
    return context.loader(context.require_services().queries.mentorship_batch)


def rotations(context: Context) -> DataLoader[str, RotationView | None]:
    return context.loader(context.require_services().queries.rotation_batch)


def active_rotation(context: Context) -> DataLoader[str, RotationView | None]:
    return context.loader(context.require_services().queries.active_rotation_batch)


def timeline(context: Context) -> DataLoader[str, list[TimelineEntry]]:
    return context.loader(context.require_services().queries.timeline_batch)


def org_chart(context: Context) -> DataLoader[date, dict[str, str | None]]:
    """Day -> everyone employed that day and their manager then (one statement a day)."""
    return context.loader(context.require_services().queries.org_chart_batch)


async def level(context: Context, track: str | None, key: str | None) -> Level | None:
    """The ``Level`` object for a level key of a track's current ladder (``None`` if gone)."""
    if not track or not key:
        return None
    ladder = await ladders(context).load(track)
    if ladder is None or not ladder.has_level(key):
        return None
    return Level.from_domain(ladder.level(key), ladder)
