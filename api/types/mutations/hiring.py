"""``hirePerson``, ``recordDeparture``, ``rehirePerson`` and ``changeManager``."""

from __future__ import annotations

import uuid
from datetime import date

import strawberry

from api.context import Info
from api.types.mutations.common import (
    PersonPayloadBase,
    expected_version_field,
    idempotency_key_field,
    mutation,
    parse_id_uuid,
    parse_optional_id_uuid,
)
from api.types.mutations.write import write
from domain import commands as c


@strawberry.input(description="Record a hire. Give `personId` to choose the new person's id.")
class HirePersonInput:
    name: str
    email: str
    track: str = strawberry.field(description="The ladder's track, e.g. `product`.")
    level: str = strawberry.field(description="The starting level's key, e.g. `pm`.")
    hired_on: date
    prior_years: float = strawberry.field(
        default=0.0, description="Years of relevant experience before this hire."
    )
    manager_id: strawberry.ID | None = None
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="A UUID (or Person ID) for the new person; made up if absent."
    )
    experience_exception: str | None = strawberry.field(
        default=None,
        description="Why to hire at a level above what `priorYears` allows (kept for audit).",
    )
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field()

    def command(self) -> c.HirePerson:
        return c.HirePerson(
            person_id=parse_optional_id_uuid(self.person_id, "Person", "personId") or uuid.uuid4(),
            name=self.name,
            email=self.email,
            track=self.track,
            level=self.level,
            hired_on=self.hired_on,
            prior_years=self.prior_years,
            manager_id=parse_optional_id_uuid(self.manager_id, "Person", "managerId"),
            experience_exception=self.experience_exception,
        )


@strawberry.type
class HirePersonPayload(PersonPayloadBase):
    pass


@strawberry.input(description="Record that a person left on `effectiveOn`.")
class RecordDepartureInput:
    person_id: strawberry.ID
    effective_on: date
    reason: str
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field()

    def command(self) -> c.RecordDeparture:
        return c.RecordDeparture(
            person_id=parse_id_uuid(self.person_id, "Person", "personId"),
            effective_on=self.effective_on,
            reason=self.reason,
        )


@strawberry.type
class RecordDeparturePayload(PersonPayloadBase):
    pass


@strawberry.input(description="Hire back a person who left, on a level of a track.")
class RehirePersonInput:
    person_id: strawberry.ID
    effective_on: date
    track: str
    level: str
    manager_id: strawberry.ID | None = None
    experience_exception: str | None = strawberry.field(
        default=None,
        description="Why to rehire at a level above what the experience on `effectiveOn` "
        "allows (kept for audit).",
    )
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field()

    def command(self) -> c.RehirePerson:
        return c.RehirePerson(
            person_id=parse_id_uuid(self.person_id, "Person", "personId"),
            effective_on=self.effective_on,
            track=self.track,
            level=self.level,
            manager_id=parse_optional_id_uuid(self.manager_id, "Person", "managerId"),
            experience_exception=self.experience_exception,
        )


@strawberry.type
class RehirePersonPayload(PersonPayloadBase):
    pass


@strawberry.input(description="Give a person a new manager (or none) from `effectiveOn`.")
class ChangeManagerInput:
    person_id: strawberry.ID
    manager_id: strawberry.ID | None
    effective_on: date
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field()

    def command(self) -> c.ChangeManager:
        return c.ChangeManager(
            person_id=parse_id_uuid(self.person_id, "Person", "personId"),
            manager_id=parse_optional_id_uuid(self.manager_id, "Person", "managerId"),
            effective_on=self.effective_on,
        )


@strawberry.type
class ChangeManagerPayload(PersonPayloadBase):
    pass


@strawberry.type
class HiringMutation:
    @mutation(description="Record a hire on a level of a track (HR only).")
    async def hire_person(self, info: Info, input: HirePersonInput) -> HirePersonPayload | None:
        return await write(info, input, HirePersonPayload, made_up_id=input.person_id is None)

    @mutation(description="Record that a person left (HR only).")
    async def record_departure(
        self, info: Info, input: RecordDepartureInput
    ) -> RecordDeparturePayload | None:
        return await write(info, input, RecordDeparturePayload)

    @mutation(description="Hire back a person who left (HR only).")
    async def rehire_person(
        self, info: Info, input: RehirePersonInput
    ) -> RehirePersonPayload | None:
        return await write(info, input, RehirePersonPayload)

    @mutation(description="Give a person a new manager, or none (HR only).")
    async def change_manager(
        self, info: Info, input: ChangeManagerInput
    ) -> ChangeManagerPayload | None:
        return await write(info, input, ChangeManagerPayload)
