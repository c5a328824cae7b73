"""What an event of a person's stream did to one of their promotions.

A promotion is recorded once and may later be corrected (some of its fields replaced) or
rescinded (declared void). A consumer that follows promotions must hear of all three, in
log order, to know whether a promotion is in force and from when. ``promotion_change``
says which of the three an event is, with the promotion's values after it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from uuid import UUID

from domain import events as ev
from domain.state import PersonState


class ChangeKind(enum.Enum):
    RECORDED = "recorded"
    CORRECTED = "corrected"
    RESCINDED = "rescinded"


@dataclass(frozen=True, slots=True)
class PromotionChange:
    """One step in the life of a promotion.

    ``promotion`` holds its values after this step: as recorded, with every correction up
    to and including this one, or (for a rescind) as they were when it was rescinded.
    """

    kind: ChangeKind
    promotion: ev.PromotionRecorded
    changed_fields: tuple[str, ...] = ()
    """The fields a correction replaced (snake_case, sorted); empty otherwise."""
    reason: str | None = None
    """Why it was corrected or rescinded; None for a recorded promotion."""

    @property
    def promotion_id(self) -> UUID:
        return self.promotion.event_id

    @property
    def in_force(self) -> bool:
        """Whether the promotion stands after this step."""
        return self.kind is not ChangeKind.RESCINDED


def promotion_change(state: PersonState, event: object) -> PromotionChange | None:
    """What ``event`` did to a promotion, or None if it did nothing to one.

    ``state`` is the person's state folded through ``event`` itself (so corrections up to
    and including it are applied). Never raises: an event that names no known promotion
    (or that is of another person) is not a promotion change.
    """
    if isinstance(event, ev.PromotionRecorded):
        return PromotionChange(ChangeKind.RECORDED, event)
    if not isinstance(event, ev.EventCorrected | ev.EventRescinded):
        return None
    if state.person_id is not None and event.person_id != state.person_id:
        return None
    target = state.corrected_facts.get(event.target_event_id)
    if not isinstance(target, ev.PromotionRecorded):
        return None
    if isinstance(event, ev.EventCorrected):
        return PromotionChange(
            ChangeKind.CORRECTED, target, tuple(sorted(event.changes)), event.reason
        )
    return PromotionChange(ChangeKind.RESCINDED, target, (), event.reason)
