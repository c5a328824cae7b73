"""``recordPromotion``, ``recordDemotion`` and ``recordLateralMove``."""

from __future__ import annotations

from datetime import date

import strawberry

from api.context import Info
from api.errors import user_errors
from api.types.mutations.common import (
    InvalidInput,
    PersonPayloadBase,
    execute,
    expected_version_field,
    idempotency_key_field,
    mutation,
    parse_id,
)
from domain import commands as c
from events.service import person_stream


@strawberry.input(description="Evidence for one development area of the person's ladder.")
class EvidenceInput:
    area: str = strawberry.field(description="A development area key, e.g. `mentorship`.")
    text: str


@strawberry.input(description="Promote a person to the next level of their track.")
class RecordPromotionInput:
    person_id: strawberry.ID
    to_level: str = strawberry.field(description="The key of the next level up.")
    effective_on: date
    rationale: str
    evidence: list[EvidenceInput] = strawberry.field(default_factory=list)
    experience_exception: str | None = strawberry.field(
        default=None,
        description="Why to promote below the level's minimum experience (kept for audit).",
    )
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field()


@strawberry.type
class RecordPromotionPayload(PersonPayloadBase):
    pass


@strawberry.input(description="Move a person down to a lower level of their track.")
class RecordDemotionInput:
    person_id: strawberry.ID
    to_level: str
    effective_on: date
    reason: str
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field()


@strawberry.type
class RecordDemotionPayload(PersonPayloadBase):
    pass


@strawberry.input(description="Move a person to another track without going up.")
class RecordLateralMoveInput:
    person_id: strawberry.ID
    to_track: str
    to_level: str
    effective_on: date
    reason: str
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field()


@strawberry.type
class RecordLateralMovePayload(PersonPayloadBase):
    pass


def evidence_by_area(items: list[EvidenceInput]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items:
        if item.area in found:
            raise InvalidInput(f"evidence lists {item.area!r} twice.", field="evidence")
        found[item.area] = item.text
    return found


@strawberry.type
class LevelChangeMutation:
    @mutation(description="Promote a person to the next level (HR only).")
    async def record_promotion(
        self, info: Info, input: RecordPromotionInput
    ) -> RecordPromotionPayload | None:
        info.context.require_writer()
        try:
            person_id = parse_id(input.person_id, "Person", "personId")
            written = await execute(
                info.context,
                c.RecordPromotion(
                    person_id=person_id,
                    to_level=input.to_level,
                    effective_on=input.effective_on,
                    rationale=input.rationale,
                    evidence=evidence_by_area(input.evidence),
                    experience_exception=input.experience_exception,
                ),
                stream=person_stream(person_id),
                idempotency_key=input.idempotency_key,
                expected_version=input.expected_version,
            )
        except Exception as exc:
            return RecordPromotionPayload.refused(user_errors(exc))
        return RecordPromotionPayload.done(written, person_id)

    @mutation(description="Move a person down a level (HR only).")
    async def record_demotion(
        self, info: Info, input: RecordDemotionInput
    ) -> RecordDemotionPayload | None:
        info.context.require_writer()
        try:
            person_id = parse_id(input.person_id, "Person", "personId")
            written = await execute(
                info.context,
                c.RecordDemotion(
                    person_id=person_id,
                    to_level=input.to_level,
                    effective_on=input.effective_on,
                    reason=input.reason,
                ),
                stream=person_stream(person_id),
                idempotency_key=input.idempotency_key,
                expected_version=input.expected_version,
            )
        except Exception as exc:
            return RecordDemotionPayload.refused(user_errors(exc))
        return RecordDemotionPayload.done(written, person_id)

    @mutation(description="Move a person to another track (HR only).")
    async def record_lateral_move(
        self, info: Info, input: RecordLateralMoveInput
    ) -> RecordLateralMovePayload | None:
        info.context.require_writer()
        try:
            person_id = parse_id(input.person_id, "Person", "personId")
            written = await execute(
                info.context,
                c.RecordLateralMove(
                    person_id=person_id,
                    to_track=input.to_track,
                    to_level=input.to_level,
                    effective_on=input.effective_on,
                    reason=input.reason,
                ),
                stream=person_stream(person_id),
                idempotency_key=input.idempotency_key,
                expected_version=input.expected_version,
            )
        except Exception as exc:
            return RecordLateralMovePayload.refused(user_errors(exc))
        return RecordLateralMovePayload.done(written, person_id)
