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
    """Corrected, or a correction of it withdrawn (its values are then those without it)."""
    RESCINDED = "rescinded"
    RESTORED = "restored"
    """Its rescission was undone: it stands again."""


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
    """Why it was corrected, rescinded or restored; None for a recorded promotion."""
    in_force: bool = True
    """Whether the promotion stands after this step."""

    @property
    def promotion_id(self) -> UUID:
        return self.promotion.event_id


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
    if isinstance(event, ev.EventRescinded) and event.fact_event_id is not None:
        return _withdrawal(state, event)
    target = state.corrected_facts.get(event.target_event_id)
    if not isinstance(target, ev.PromotionRecorded):
        return None
    if isinstance(event, ev.EventCorrected):
        return PromotionChange(
            ChangeKind.CORRECTED,
            target,
            tuple(sorted(event.changes)),
            event.reason,
            in_force=target.event_id not in state.rescinded_ids,
        )
    return PromotionChange(ChangeKind.RESCINDED, target, (), event.reason, in_force=False)


def _withdrawal(state: PersonState, event: ev.EventRescinded) -> PromotionChange | None:
    """A withdrawn correction (CORRECTED, back to the values without it) or an undone
    rescission (RESTORED) of a promotion."""
    promotion = state.corrected_facts.get(event.fact_event_id) if event.fact_event_id else None
    if not isinstance(promotion, ev.PromotionRecorded):
        return None
    in_force = promotion.event_id not in state.rescinded_ids
    for correction in state.corrections:
        if correction.event_id == event.target_event_id:
            changed = tuple(sorted(correction.changes))
            return PromotionChange(
                ChangeKind.CORRECTED, promotion, changed, event.reason, in_force=in_force
            )
    return PromotionChange(ChangeKind.RESTORED, promotion, (), event.reason, in_force=in_force)
