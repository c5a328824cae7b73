"""``recordPromotion``, ``recordDemotion`` and ``recordLateralMove``."""

from __future__ import annotations

from datetime import date

import strawberry

from api.context import Info
from api.types.mutations.common import (
    InvalidMutationInput,
    PersonPayloadBase,
    expected_version_field,
    idempotency_key_field,
    mutation,
    parse_id_uuid,
)
from api.types.mutations.write import write
from domain import commands as c


@strawberry.input(description="Evidence for one development area of the person's ladder.")
class EvidenceInput:
    area: str = strawberry.field(description="A development area key, e.g. `mentorship`.")
    text: str


def evidence_by_area(items: list[EvidenceInput]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items:
        if item.area in found:
            raise InvalidMutationInput(f"evidence lists {item.area!r} twice.", field="evidence")
        found[item.area] = item.text
    return found


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

    def command(self) -> c.RecordPromotion:
        return c.RecordPromotion(
            person_id=parse_id_uuid(self.person_id, "Person", "personId"),
            to_level=self.to_level,
            effective_on=self.effective_on,
            rationale=self.rationale,
            evidence=evidence_by_area(self.evidence),
            experience_exception=self.experience_exception,
        )


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

    def command(self) -> c.RecordDemotion:
        return c.RecordDemotion(
            person_id=parse_id_uuid(self.person_id, "Person", "personId"),
            to_level=self.to_level,
            effective_on=self.effective_on,
            reason=self.reason,
        )


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

    def command(self) -> c.RecordLateralMove:
        return c.RecordLateralMove(
            person_id=parse_id_uuid(self.person_id, "Person", "personId"),
            to_track=self.to_track,
            to_level=self.to_level,
            effective_on=self.effective_on,
            reason=self.reason,
        )


@strawberry.type
class RecordLateralMovePayload(PersonPayloadBase):
    pass


@strawberry.type
class LevelChangeMutation:
    @mutation(description="Promote a person to the next level (HR only).")
    async def record_promotion(
        self, info: Info, input: RecordPromotionInput
    ) -> RecordPromotionPayload | None:
        return await write(info, input, RecordPromotionPayload)

    @mutation(description="Move a person down a level (HR only).")
    async def record_demotion(
        self, info: Info, input: RecordDemotionInput
    ) -> RecordDemotionPayload | None:
        return await write(info, input, RecordDemotionPayload)

    @mutation(description="Move a person to another track (HR only).")
    async def record_lateral_move(
        self, info: Info, input: RecordLateralMoveInput
    ) -> RecordLateralMovePayload | None:
        return await write(info, input, RecordLateralMovePayload)
