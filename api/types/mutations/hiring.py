"""``hirePerson``, ``recordDeparture``, ``rehirePerson`` and ``changeManager``."""

from __future__ import annotations

import uuid
from datetime import date

import strawberry

from api.context import Info
from api.errors import user_errors
from api.types.mutations.common import (
    PersonPayloadBase,
    execute,
    expected_version_field,
    idempotency_key_field,
    mutation,
    parse_id,
    parse_optional_id,
    person_of,
)
from domain import commands as c
from events.service import person_stream


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
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field()


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
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field()


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


@strawberry.type
class ChangeManagerPayload(PersonPayloadBase):
    pass


@strawberry.type
class HiringMutation:
    @mutation(description="Record a hire on a level of a track (HR only).")
    async def hire_person(self, info: Info, input: HirePersonInput) -> HirePersonPayload | None:
        info.context.require_writer()
        try:
            chosen = parse_optional_id(input.person_id, "Person", "personId")
            command = c.HirePerson(
                person_id=chosen or uuid.uuid4(),
                name=input.name,
                email=input.email,
                track=input.track,
                level=input.level,
                hired_on=input.hired_on,
                prior_years=input.prior_years,
                manager_id=parse_optional_id(input.manager_id, "Person", "managerId"),
            )
            written = await execute(
                info.context,
                command,
                stream=None if chosen is None else person_stream(chosen),
                idempotency_key=input.idempotency_key,
                expected_version=input.expected_version,
            )
        except Exception as exc:
            return HirePersonPayload.refused(user_errors(exc))
        return HirePersonPayload.done(written, person_of(written))

    @mutation(description="Record that a person left (HR only).")
    async def record_departure(
        self, info: Info, input: RecordDepartureInput
    ) -> RecordDeparturePayload | None:
        info.context.require_writer()
        try:
            person_id = parse_id(input.person_id, "Person", "personId")
            written = await execute(
                info.context,
                c.RecordDeparture(
                    person_id=person_id, effective_on=input.effective_on, reason=input.reason
                ),
                stream=person_stream(person_id),
                idempotency_key=input.idempotency_key,
                expected_version=input.expected_version,
            )
        except Exception as exc:
            return RecordDeparturePayload.refused(user_errors(exc))
        return RecordDeparturePayload.done(written, person_id)

    @mutation(description="Hire back a person who left (HR only).")
    async def rehire_person(
        self, info: Info, input: RehirePersonInput
    ) -> RehirePersonPayload | None:
        info.context.require_writer()
        try:
            person_id = parse_id(input.person_id, "Person", "personId")
            written = await execute(
                info.context,
                c.RehirePerson(
                    person_id=person_id,
                    effective_on=input.effective_on,
                    track=input.track,
                    level=input.level,
                    manager_id=parse_optional_id(input.manager_id, "Person", "managerId"),
                ),
                stream=person_stream(person_id),
                idempotency_key=input.idempotency_key,
                expected_version=input.expected_version,
            )
        except Exception as exc:
            return RehirePersonPayload.refused(user_errors(exc))
        return RehirePersonPayload.done(written, person_id)

    @mutation(description="Give a person a new manager, or none (HR only).")
    async def change_manager(
        self, info: Info, input: ChangeManagerInput
    ) -> ChangeManagerPayload | None:
        info.context.require_writer()
        try:
            person_id = parse_id(input.person_id, "Person", "personId")
            written = await execute(
                info.context,
                c.ChangeManager(
                    person_id=person_id,
                    manager_id=parse_optional_id(input.manager_id, "Person", "managerId"),
                    effective_on=input.effective_on,
                ),
                stream=person_stream(person_id),
                idempotency_key=input.idempotency_key,
                expected_version=input.expected_version,
            )
        except Exception as exc:
            return ChangeManagerPayload.refused(user_errors(exc))
        return ChangeManagerPayload.done(written, person_id)
