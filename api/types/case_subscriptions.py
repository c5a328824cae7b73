"""``promotionDecisions``: approvals, declines and withdrawals of promotion cases, replayed
after a position, then live -- only those of cases you may see (as ``promotionCase``).

An approval's promotion is also announced by ``promotions`` (its ``PromotionRecorded``
was written in the same transaction, one position after or before the approval).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import date, datetime

import strawberry

from api.context import Info
from api.fields import field
from api.scopes import parse_id_text
from api.streaming import follow_types, start_position
from api.types.mutations.common import person_global_id
from api.types.promotion_case import (
    CYCLE,
    PromotionCase,
    PromotionCaseState,
    case_for,
    case_viewer,
)
from api.types.subscriptions import _check_after, subscription
from domain.case_events import DECISION_TYPES
from events.readmodels import case_queries as cq

DECISIONS = tuple(cls.__name__ for cls in DECISION_TYPES)
_STATES = {
    "PromotionApproved": PromotionCaseState.APPROVED,
    "PromotionDeclined": PromotionCaseState.DECLINED,
    "NominationWithdrawn": PromotionCaseState.WITHDRAWN,
}


@strawberry.type(description="A promotion case approved, declined or withdrawn.")
class PromotionDecisionEvent:
    position: int = strawberry.field(description="Global log position: resume after it.")
    event_id: strawberry.ID
    type: str = strawberry.field(
        description="`PromotionApproved`, `PromotionDeclined` or `NominationWithdrawn`."
    )
    recorded_at: datetime
    case_id: strawberry.ID
    person_id: strawberry.ID = strawberry.field(description="The nominee's Person ID.")
    state: PromotionCaseState = strawberry.field(description="The case's state it led to.")
    effective_on: date | None = strawberry.field(description="An approval's effective date.")
    reason: str | None = strawberry.field(description="Why it was declined or withdrawn.")

    @field(description="The case now, as you may see it.")
    async def promotion_case(self, info: Info) -> PromotionCase | None:
        return await case_for(info.context, str(self.case_id))


@strawberry.type
class PromotionCaseSubscription:
    @subscription(
        "Decisions on promotion cases after `afterPosition` (default: from now on), replayed "
        "then live; only cases you may see, optionally of one cycle."
    )
    async def promotion_decisions(
        self,
        info: Info,
        after_position: int | None = None,
        cycle_id: strawberry.ID | None = None,
    ) -> AsyncGenerator[PromotionDecisionEvent, None]:
        context = info.context
        context.require_principal()
        _check_after(after_position)
        cycle = (
            None if cycle_id is None else parse_id_text(cycle_id, type_name=CYCLE, field="cycleId")
        )
        services = context.require_services()
        viewer = await case_viewer(context)
        after = await start_position(services, after_position)
        async for event in follow_types(context, after, DECISIONS):
            case = await cq.get_case(services.queries.engine, str(event.data["case_id"]), viewer)
            if case is None or (cycle is not None and case.cycle_id != cycle):
                continue
            effective = event.data.get("effective_on")
            yield PromotionDecisionEvent(
                position=event.position,
                event_id=strawberry.ID(str(event.event_id)),
                type=event.type,
                recorded_at=event.recorded_at,
                case_id=strawberry.ID(case.case_id),
                person_id=person_global_id(case.person_id),
                state=_STATES[event.type],
                effective_on=None if effective is None else date.fromisoformat(str(effective)),
                reason=event.data.get("reason"),
            )
