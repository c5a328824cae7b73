"""Promotion changes read from the log: recorded, corrected or rescinded.

The promotions feed follows ``PromotionRecorded``, ``EventCorrected`` and
``EventRescinded``; for the last two, whether they touch a promotion (and its values
after them) depends on the person's stream up to that event, which is read here.
"""

from __future__ import annotations

from domain.reversals import PromotionChange, promotion_change
from domain.serialization import from_data
from domain.state import PersonState
from events.port import EventStore, RecordedEvent
from events.timetravel import fold_recorded

PROMOTION_CHANGE_TYPES = ("PromotionRecorded", "EventCorrected", "EventRescinded")
"""The event types that can change a promotion."""


async def promotion_change_of(store: EventStore, recorded: RecordedEvent) -> PromotionChange | None:
    """What ``recorded`` did to a promotion (None if nothing), judged on its stream so far."""
    if recorded.type not in PROMOTION_CHANGE_TYPES:
        return None
    event = from_data(recorded.type, recorded.data, recorded.event_id)
    if recorded.type == "PromotionRecorded":
        return promotion_change(PersonState(), event)
    history = await store.read_stream(recorded.stream, 1, recorded.version)
    return promotion_change(fold_recorded(history), event)
