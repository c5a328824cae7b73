"""``PromotionCase``, ``PromotionCycle``, ``Calibration`` and their root fields.

Who sees a case (``events.readmodels.case_queries``): HR and auditors every case; a
manager the cases of everyone they manage; the nominator; the reviewers named on the
case or its cycle; the person once it is decided. A case out of reach reads as unknown
(``null``, or left out of lists).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, ClassVar, cast

import strawberry
from strawberry.scalars import JSON

from api.auth import Role
from api.context import Context, Info
from api.fields import field
from api.relay import encode_global_id, node_resolver
from api.scopes import OptionalPersonIdArg, parse_id_text, subject_id, visible_people
from api.types.connection import Connection, connection, decode_cursor, page_size
from api.types.node import Node
from domain.case_events import case_stream
from events.readmodels import case_queries as cq
from events.readmodels.case_queries import CaseFilter, CaseView, CaseViewer, CycleView

if TYPE_CHECKING:
    from api.types.person import Person

CASES = "promotionCases"
CASE = "PromotionCase"
CYCLE = "PromotionCycle"


@strawberry.enum(description="Where a promotion case stands.")
class PromotionCaseState(enum.Enum):
    NOMINATED = "NOMINATED"
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    WITHDRAWN = "WITHDRAWN"


@strawberry.enum(description="A reviewer's recommendation on a promotion case.")
class Recommendation(enum.Enum):
    STRONG_YES = "STRONG_YES"
    YES = "YES"
    NO = "NO"
    STRONG_NO = "STRONG_NO"


def _person_id(raw: str) -> strawberry.ID:
    return strawberry.ID(encode_global_id("Person", raw))


async def _person(context: Context, raw: str) -> Person | None:
    from api.types.person import person_or_none

    return await person_or_none(context, raw)


async def case_viewer(context: Context) -> CaseViewer | None:
    """``None`` for a caller who sees every case; raises ``UNAUTHENTICATED``."""
    principal = context.require_principal()
    if principal.can_read_everything:
        return None
    me = subject_id(principal)
    reports: frozenset[str] = frozenset()
    if principal.role is Role.MANAGER:
        visible = await visible_people(context)
        reports = frozenset((visible or frozenset()) - {me})
    return CaseViewer(me, reports)


REVIEW_EVENTS = ("PromotionReviewed", "PromotionReviewersNamed")
"""What the person a case is about does not see of it: calibration stays confidential."""


def _is_nominee(context: Context, person_id: str) -> bool:
    principal = context.principal
    return (
        principal is not None
        and not principal.can_read_everything
        and subject_id(principal) == person_id
    )


@strawberry.type(description="The evidence given for one development area of the ladder.")
class AreaEvidence:
    area: str = strawberry.field(description="The development area key, e.g. `analytics`.")
    texts: list[str]


@strawberry.type(description="A named reviewer's latest recommendation on a case.")
class PromotionReview:
    reviewer_id: strawberry.ID = strawberry.field(description="The reviewer's Person ID.")
    recommendation: Recommendation
    comment: str
    _raw_reviewer: strawberry.Private[str]

    @field(description="The reviewer; null if not visible to you.")
    async def reviewer(
        self, info: Info
    ) -> Annotated[Person, strawberry.lazy("api.types.person")] | None:
        return await _person(info.context, self._raw_reviewer)


@strawberry.type(description="One event of a case's stream, as the log recorded it.")
class PromotionCaseEvent:
    position: int
    stream_version: int
    event_id: strawberry.ID
    type: str = strawberry.field(description="The event type, e.g. `PromotionReviewed`.")
    recorded_at: datetime
    actor_id: str | None = strawberry.field(description="Who wrote it (the token's subject).")
    data: JSON = strawberry.field(description="The event's data (snake_case fields).")


@strawberry.type(description="A promotion cycle: nominations join the open one.")
class PromotionCycle(Node):
    node_type: ClassVar[str] = CYCLE

    cycle_id: strawberry.ID
    name: str
    closes_on: date
    open: bool
    reviewer_ids: list[strawberry.ID] = strawberry.field(
        description="Person IDs of the reviewers of every case of the cycle."
    )

    def raw_id(self) -> str:
        return str(self.cycle_id)

    @classmethod
    def from_row(cls, row: CycleView) -> PromotionCycle:
        return cls(
            cycle_id=strawberry.ID(row.cycle_id),
            name=row.name,
            closes_on=row.closes_on,
            open=row.open,
            reviewer_ids=[_person_id(r) for r in row.reviewers],
        )


@strawberry.type(description="A nomination for promotion and what became of it.")
class PromotionCase(Node):
    node_type: ClassVar[str] = CASE

    case_id: strawberry.ID
    person_id: strawberry.ID = strawberry.field(description="The nominee's Person ID.")
    track: str
    from_level_key: str
    to_level_key: str
    ladder_version: int
    state: PromotionCaseState
    rationale: str
    nominated_by: str = strawberry.field(description="Who nominated (the token's subject).")
    nominated_on: date
    cycle_id: strawberry.ID | None = strawberry.field(description="Null: nominated off-cycle.")
    evidence: list[AreaEvidence]
    _reviews: strawberry.Private[list[PromotionReview]]
    reviewer_ids: list[strawberry.ID] = strawberry.field(
        description="Person IDs of the reviewers named on this case (the cycle's come on top)."
    )
    effective_on: date | None = strawberry.field(description="When an approval takes effect.")
    reason: str | None = strawberry.field(description="Why it was declined or withdrawn.")
    decided_by: str | None
    promotion_event_id: strawberry.ID | None = strawberry.field(
        description="The `PromotionRecorded` an approval wrote in the person's stream."
    )
    _raw_person: strawberry.Private[str]

    def raw_id(self) -> str:
        return str(self.case_id)

    @classmethod
    def from_row(cls, row: CaseView) -> PromotionCase:
        return cls(
            case_id=strawberry.ID(row.case_id),
            person_id=_person_id(row.person_id),
            track=row.track,
            from_level_key=row.from_level,
            to_level_key=row.to_level,
            ladder_version=row.ladder_version,
            state=PromotionCaseState(row.status),
            rationale=row.rationale,
            nominated_by=row.nominated_by,
            nominated_on=row.nominated_on,
            cycle_id=None if row.cycle_id is None else strawberry.ID(row.cycle_id),
            evidence=[AreaEvidence(area=a, texts=list(t)) for a, t in row.evidence.items()],
            _reviews=[
                PromotionReview(
                    reviewer_id=_person_id(r),
                    recommendation=Recommendation(v["recommendation"]),
                    comment=v["comment"],
                    _raw_reviewer=r,
                )
                for r, v in row.reviews.items()
            ],
            reviewer_ids=[_person_id(r) for r in row.reviewers],
            effective_on=row.effective_on,
            reason=row.reason,
            decided_by=row.decided_by,
            promotion_event_id=None
            if row.promotion_event_id is None
            else strawberry.ID(row.promotion_event_id),
            _raw_person=row.person_id,
        )

    @field(description="The nominee; null if not visible to you.")
    async def person(
        self, info: Info
    ) -> Annotated[Person, strawberry.lazy("api.types.person")] | None:
        return await _person(info.context, self._raw_person)

    @field(description="The cycle the case joined; null off-cycle.")
    async def cycle(self, info: Info) -> PromotionCycle | None:
        if self.cycle_id is None:
            return None
        row = await cq.get_cycle(info.context.require_services().queries.engine, str(self.cycle_id))
        return None if row is None else PromotionCycle.from_row(row)

    @field(
        description="The named reviewers' latest recommendations (not shown to the person "
        "the case is about)."
    )
    def reviews(self, info: Info) -> list[PromotionReview]:
        return [] if _is_nominee(info.context, self._raw_person) else self._reviews

    @field(
        description="Every event of the case, oldest first: its full history (the person "
        "the case is about does not see who was named to review it nor the reviews)."
    )
    async def history(self, info: Info) -> list[PromotionCaseEvent]:
        store = info.context.require_services().store
        hidden = REVIEW_EVENTS if _is_nominee(info.context, self._raw_person) else ()
        return [
            PromotionCaseEvent(
                position=r.position,
                stream_version=r.version,
                event_id=strawberry.ID(str(r.event_id)),
                type=r.type,
                recorded_at=r.recorded_at,
                actor_id=r.metadata.get("actor_id"),
                data=cast("JSON", dict(r.data)),
            )
            for r in await store.read_stream(case_stream(str(self.case_id)))
            if r.type not in hidden
        ]


@strawberry.type(description="Cases of a cycle per target level and state.")
class PromotionCaseCount:
    level_key: str
    state: PromotionCaseState
    count: int


@strawberry.type(description="One nominee as calibration compares them.")
class CalibrationNominee:
    promotion_case: PromotionCase
    ready: bool = strawberry.field(description="Ready for the next level by the ladder's rules.")
    missing: list[str] = strawberry.field(description="What readiness still misses.")
    years_of_experience: float
    covered_areas: list[str] = strawberry.field(
        description="Development areas of the ladder the case has evidence for."
    )
    missing_areas: list[str] = strawberry.field(description="Development areas without evidence.")
    evidence_coverage: float = strawberry.field(description="Covered areas / all areas, 0 to 1.")
    recommendation_score: int = strawberry.field(
        description="Recommendations summed: STRONG_YES 2, YES 1, NO -1, STRONG_NO -2."
    )


@strawberry.type(description="A cycle's nominees for one level, sorted for comparison.")
class Calibration:
    cycle: PromotionCycle
    level_key: str | None
    nominees: list[CalibrationNominee] = strawberry.field(
        description="Ready first, then by recommendation score, by evidence coverage, and "
        "in nomination order; withdrawn cases are left out."
    )
    counts: list[PromotionCaseCount] = strawberry.field(
        description="The cycle's cases (that you may see) per target level and state."
    )


def _state(value: PromotionCaseState | None) -> str | None:
    return None if value is None else value.value


@strawberry.type
class PromotionCaseQuery:
    @field(description="A promotion case, or null if there is none you may see.")
    async def promotion_case(self, info: Info, id: strawberry.ID) -> PromotionCase | None:
        raw = parse_id_text(id, type_name=CASE, field="id")
        return await case_for(info.context, raw)

    @field(
        description="Promotion cases you may see, in nomination order, filtered by state, "
        "target level, cycle or person."
    )
    async def promotion_cases(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        state: PromotionCaseState | None = None,
        level: str | None = None,
        cycle_id: strawberry.ID | None = None,
        person_id: OptionalPersonIdArg = None,
    ) -> Connection[PromotionCase]:
        context = info.context
        viewer = await case_viewer(context)
        limit = page_size(first, context.settings)
        key = decode_cursor(CASES, after, (int,))
        engine = context.require_services().queries.engine
        filters = CaseFilter(
            status=_state(state),
            to_level=level,
            cycle_id=None
            if cycle_id is None
            else parse_id_text(cycle_id, type_name=CYCLE, field="cycleId"),
            person_id=None if person_id is None else parse_id_text(person_id),
            viewer=viewer,
        )
        rows = await cq.list_cases(
            engine, filters, limit=limit + 1, after=None if key is None else int(key[0])
        )
        return connection(
            rows,
            kind=CASES,
            limit=limit,
            after=after,
            key=lambda r: [r.nominated_position],
            node=PromotionCase.from_row,
            total=lambda: cq.count_cases(engine, filters),
        )

    @field(description="Every promotion cycle, the latest opened first (any signed-in caller).")
    async def promotion_cycles(self, info: Info) -> list[PromotionCycle]:
        info.context.require_principal()
        rows = await cq.list_cycles(info.context.require_services().queries.engine)
        return [PromotionCycle.from_row(r) for r in rows]

    @field(
        description="The calibration view of a cycle: its nominees for `level` (every level "
        "without it) that you may see, with readiness, evidence coverage and recommendations."
    )
    async def calibration(
        self, info: Info, cycle_id: strawberry.ID, level: str | None = None
    ) -> Calibration | None:
        context = info.context
        viewer = await case_viewer(context)
        services = context.require_services()
        raw = parse_id_text(cycle_id, type_name=CYCLE, field="cycleId")
        view = await cq.calibration(
            services.queries.engine, raw, level, today=services.today(), viewer=viewer
        )
        if view is None:
            return None
        return Calibration(
            cycle=PromotionCycle.from_row(view.cycle),
            level_key=view.level,
            nominees=[
                CalibrationNominee(
                    promotion_case=PromotionCase.from_row(e.case),
                    ready=e.readiness is not None and e.readiness.ready,
                    missing=[] if e.readiness is None else list(e.readiness.missing),
                    years_of_experience=0.0
                    if e.readiness is None
                    else round(e.readiness.years_of_experience, 2),
                    covered_areas=list(e.covered_areas),
                    missing_areas=list(e.missing_areas),
                    evidence_coverage=round(e.coverage, 4),
                    recommendation_score=e.score,
                )
                for e in view.entries
            ],
            counts=[
                PromotionCaseCount(
                    level_key=c.level, state=PromotionCaseState(c.status), count=c.count
                )
                for c in view.counts
            ],
        )


async def case_for(context: Context, raw: str) -> PromotionCase | None:
    """The case ``raw`` as the caller may see it (None: unknown or out of reach)."""
    viewer = await case_viewer(context)
    row = await cq.get_case(context.require_services().queries.engine, raw, viewer)
    return None if row is None else PromotionCase.from_row(row)


@node_resolver(CASE)
async def _case_node(context: Context, raw_id: str) -> PromotionCase | None:
    return await case_for(context, parse_id_text(raw_id, type_name=CASE, field="id"))


@node_resolver(CYCLE)
async def _cycle_node(context: Context, raw_id: str) -> PromotionCycle | None:
    context.require_principal()
    row = await cq.get_cycle(
        context.require_services().queries.engine,
        parse_id_text(raw_id, type_name=CYCLE, field="id"),
    )
    return None if row is None else PromotionCycle.from_row(row)
