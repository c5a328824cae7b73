"""``auditTrail(personId)``: every event of a person's stream, its hash chain, and whether
the chain verifies. For ``hr`` and ``auditor`` only."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.fields import field
from api.scopes import NotFound, PersonIdArg, parse_id_text, require_auditor
from events.port import ChainBreak as StoreChainBreak
from events.port import RecordedEvent, VerifyResult
from events.readmodels.api_history import AuditTrail as TrailView


@strawberry.type(description="One event exactly as the log holds it.")
class AuditEvent:
    event_id: strawberry.ID
    position: int = strawberry.field(description="Global log position.")
    stream_version: int
    type: str
    schema_version: int
    effective_on: date | None
    recorded_at: datetime
    actor: str | None
    actor_role: str | None
    data: JSON
    metadata: JSON
    hash: str
    previous_hash: str | None = strawberry.field(description="Null for a stream's first event.")

    @classmethod
    def from_recorded(cls, r: RecordedEvent) -> AuditEvent:
        effective = r.data.get("effective_on")
        return cls(
            event_id=strawberry.ID(str(r.event_id)),
            position=r.position,
            stream_version=r.version,
            type=r.type,
            schema_version=r.schema_version,
            effective_on=date.fromisoformat(effective) if isinstance(effective, str) else None,
            recorded_at=r.recorded_at,
            actor=r.metadata.get("actor_id"),
            actor_role=r.metadata.get("actor_role"),
            data=JSON(r.data),
            metadata=JSON(r.metadata),
            hash=r.hash,
            previous_hash=r.prev_hash,
        )


@strawberry.type(description="The first event whose hash or chain link does not match.")
class ChainBreak:
    position: int | None
    stream_version: int | None
    event_id: strawberry.ID | None
    reason: str

    @classmethod
    def from_store(cls, b: StoreChainBreak) -> ChainBreak:
        return cls(
            position=b.position,
            stream_version=b.version,
            event_id=None if b.event_id is None else strawberry.ID(str(b.event_id)),
            reason=b.reason,
        )


@strawberry.type(description="The hash chain recomputed from the stored events.")
class ChainVerification:
    ok: bool
    events_checked: int
    first_break: ChainBreak | None

    @classmethod
    def from_store(cls, v: VerifyResult) -> ChainVerification:
        return cls(
            ok=v.ok,
            events_checked=v.events_checked,
            first_break=None if v.first_break is None else ChainBreak.from_store(v.first_break),
        )


@strawberry.type(description="A person's stream, event by event, and its verification.")
class AuditTrail:
    person_id: strawberry.ID
    events: list[AuditEvent]
    verification: ChainVerification

    @classmethod
    def from_view(cls, view: TrailView) -> AuditTrail:
        return cls(
            person_id=strawberry.ID(view.person_id),
            events=[AuditEvent.from_recorded(r) for r in view.events],
            verification=ChainVerification.from_store(view.verification),
        )


@strawberry.type
class AuditQuery:
    @field(description="Every event of a person's stream (HR and auditors).")
    async def audit_trail(self, info: Info, person_id: PersonIdArg) -> AuditTrail:
        require_auditor(info.context, "audit trails")
        raw = parse_id_text(person_id)
        view = await info.context.require_services().queries.audit_trail(raw)
        if view is None:
            raise NotFound("No events are recorded for this person.", field="personId")
        return AuditTrail.from_view(view)
