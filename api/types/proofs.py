"""Verifiable audit: ``checkpoint``, ``auditProof(personId)`` and ``consistencyProof``.

A checkpoint is the log's tree head signed with the server's Ed25519 key (C2SP
``tlog-checkpoint`` as a signed note); proofs are RFC 9162 inclusion and consistency
proofs, hashes in standard base64. ``AuditProof.bundle`` is the same JSON that
``ladder prove`` writes, so ``ladder verify-proof`` checks what the API served.
For ``hr`` and ``auditor`` only.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

import orjson
import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.fields import field
from api.scopes import InvalidArgument, NotFound, PersonIdArg, parse_id_text, require_auditor
from events.bundle import BundleError
from events.merkle import ProofError
from events.tlog import Checkpoint, CheckpointError

CheckpointArg = Annotated[
    str | None,
    strawberry.argument(description="A checkpoint note this log signed (default: a new one)."),
]


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


@strawberry.type(description="The log's tree head signed as a C2SP checkpoint (Ed25519).")
class SignedCheckpoint:
    origin: str
    tree_size: int
    root_hash: str = strawberry.field(description="The Merkle root, standard base64.")
    time: datetime | None
    note: str = strawberry.field(description="The signed note, verbatim (keep it).")

    @classmethod
    def from_note(cls, note: str, c: Checkpoint) -> SignedCheckpoint:
        return cls(
            origin=c.origin, tree_size=c.size, root_hash=_b64(c.root), time=c.time, note=note
        )


@strawberry.type(description="An event's Merkle entry and its inclusion proof.")
class ProvenEvent:
    position: int
    stream_version: int
    entry: str = strawberry.field(description="The exact bytes the leaf hashes (JSON text).")
    inclusion_proof: list[str] = strawberry.field(description="RFC 9162 path, base64.")

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ProvenEvent:
        fields = orjson.loads(item["entry"])
        return cls(
            position=fields["position"],
            stream_version=fields["version"],
            entry=item["entry"],
            inclusion_proof=list(item["inclusion"]),
        )


@strawberry.type(description="A person's events proven to be in a signed checkpoint.")
class AuditProof:
    person_id: strawberry.ID
    checkpoint: SignedCheckpoint
    events: list[ProvenEvent]
    bundle: JSON = strawberry.field(description="The offline bundle (`ladder verify-proof`).")


@strawberry.type(description="Proof that the tree of `toSize` events extends that of `fromSize`.")
class ConsistencyProof:
    from_size: int
    to_size: int
    proof: list[str] = strawberry.field(description="RFC 9162 consistency proof, base64.")


@strawberry.type
class ProofQuery:
    @field(description="The log's current tree head, signed (HR and auditors).")
    async def checkpoint(self, info: Info) -> SignedCheckpoint:
        require_auditor(info.context, "checkpoints")
        note, signed = await info.context.require_services().sign_head()
        return SignedCheckpoint.from_note(note, signed)

    @field(description="A person's events with inclusion proofs in a signed checkpoint.")
    async def audit_proof(
        self,
        info: Info,
        person_id: PersonIdArg,
        checkpoint: CheckpointArg = None,
    ) -> AuditProof:
        require_auditor(info.context, "audit proofs")
        raw = parse_id_text(person_id)
        try:
            bundle, signed = await info.context.require_services().audit_bundle(raw, checkpoint)
        except (CheckpointError, BundleError) as exc:
            raise InvalidArgument(str(exc), field="checkpoint") from None
        if not bundle["events"]:
            raise NotFound("No events are recorded for this person.", field="personId")
        return AuditProof(
            person_id=strawberry.ID(raw),
            checkpoint=SignedCheckpoint.from_note(bundle["checkpoint"], signed),
            events=[ProvenEvent.from_item(i) for i in bundle["events"]],
            bundle=JSON(bundle),
        )

    @field(description="Proof that the log of `toSize` events extends that of `fromSize`.")
    async def consistency_proof(
        self, info: Info, from_size: int, to_size: int | None = None
    ) -> ConsistencyProof:
        require_auditor(info.context, "consistency proofs")
        try:
            size, proof = await info.context.require_services().consistency_proof(
                from_size, to_size
            )
        except ProofError as exc:
            raise InvalidArgument(str(exc), field="fromSize") from None
        return ConsistencyProof(from_size=from_size, to_size=size, proof=[_b64(p) for p in proof])
