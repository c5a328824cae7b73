"""What a write did, as ``CareerService`` reports it: the stream the command was judged
against, the event it is named for, the events written, whether it was a replay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.command_events import AnyCommand, named_events
from domain.serialization import TYPE_NAMES
from events.port import RecordedEvent


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a command did (or, for a repeated idempotency key, had done), as its caller
    reports it."""

    event: RecordedEvent
    """The event the command is named for (``domain.command_events``), as recorded in the
    stream it was judged against."""
    events: tuple[RecordedEvent, ...]
    """Everything the command wrote, in log order (its named event among them)."""
    replayed: bool = False
    """The idempotency key was seen before: these events are the first call's, and
    nothing new was written."""

    @property
    def stream(self) -> str:
        """The stream the command was judged against (``expected_version`` applies to it).

        For a command whose new id was made up per request (``made_up_id``), a replay's
        stream is the first call's."""
        return self.event.stream

    @property
    def position(self) -> int:
        """The log position the write reached."""
        return max(e.position for e in self.events)

    @property
    def stream_version(self) -> int:
        """The version ``stream`` reached: the next ``expected_version`` for it."""
        return max(e.version for e in self.events if e.stream == self.stream)


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What a bulk append (``execute_appends``) wrote, or for a repeated idempotency key
    had written."""

    events: tuple[RecordedEvent, ...]
    replayed: bool = False

    @property
    def position(self) -> int:
        return max(e.position for e in self.events)


def named_event(
    command: AnyCommand, events: Sequence[RecordedEvent], stream: str | None
) -> RecordedEvent | None:
    """The first of ``events`` that ``command`` is named for, in ``stream`` (any stream
    when ``None``)."""
    names = {TYPE_NAMES[t] for t in named_events(command)}
    for event in events:
        if event.type in names and (stream is None or event.stream == stream):
            return event
    return None
