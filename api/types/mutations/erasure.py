"""``erasePersonalData``: crypto-shred a person's personal data (HR only)."""

from __future__ import annotations

import enum

import strawberry

from api.context import Info
from api.types.mutations.common import (
    PersonPayloadBase,
    expected_version_field,
    idempotency_key_field,
    mutation,
    parse_id_uuid,
)
from api.types.mutations.write import write
from domain import commands as c


@strawberry.enum(
    description="Why personal data is erased (`domain.personal_data.ERASURE_REASONS`): a "
    "code, so the erasure itself records no free text."
)
class ErasureReason(enum.Enum):
    SUBJECT_REQUEST = "SUBJECT_REQUEST"
    RETENTION_EXPIRED = "RETENTION_EXPIRED"
    LEGAL_OBLIGATION = "LEGAL_OBLIGATION"
    CONSENT_WITHDRAWN = "CONSENT_WITHDRAWN"


@strawberry.input(description="Erase a person's personal data.")
class ErasePersonalDataInput:
    person_id: strawberry.ID
    reason: ErasureReason
    reference: str | None = strawberry.field(
        default=None,
        description="A ticket id for the request (letters, digits, `-_.:/#`; no names).",
    )
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field()

    def command(self) -> c.ErasePersonalData:
        return c.ErasePersonalData(
            person_id=parse_id_uuid(self.person_id, "Person", "personId"),
            reason=self.reason.value,
            reference=self.reference,
        )


@strawberry.type
class ErasePersonalDataPayload(PersonPayloadBase):
    pass


@strawberry.type
class ErasureMutation:
    @mutation(
        description="Erase a person's personal data (HR only): their name, email and the "
        "free text of their events become unreadable for good (their key is destroyed) and "
        "read as empty, with `erased: true`; levels, dates and the log's proofs stay. "
        "Records a `PersonalDataErased` event. Erasing again: PERSONAL_DATA_ALREADY_ERASED."
    )
    async def erase_personal_data(
        self, info: Info, input: ErasePersonalDataInput
    ) -> ErasePersonalDataPayload | None:
        return await write(info, input, ErasePersonalDataPayload)
