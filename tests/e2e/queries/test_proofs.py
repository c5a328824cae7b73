"""``checkpoint``, ``auditProof`` and ``consistencyProof`` over real HTTP, on both backends."""

from __future__ import annotations

import asyncio
import base64

import orjson

from events.bundle import verify_bundle
from events.merkle import verify_consistency
from events.sql_store import create_store
from events.tlog import NoteSigner, open_checkpoint
from tests.e2e.queries.seed import ORG, SIGNING_KEY, Seeded

VERIFIER = NoteSigner.parse(SIGNING_KEY).verifier()
CHECKPOINT = "{ checkpoint { origin treeSize rootHash time note } }"
AUDIT_PROOF = """
query($id: ID!, $cp: String) {
  auditProof(personId: $id, checkpoint: $cp) {
    personId
    checkpoint { treeSize note }
    events { position streamVersion entry inclusionProof }
    bundle
  }
}"""
CONSISTENCY = """
query($from: Int!, $to: Int) { consistencyProof(fromSize: $from, toSize: $to) {
  fromSize toSize proof } }"""


def _data(org: Seeded, query: str, variables: dict[str, object] | None = None) -> dict[str, object]:
    body = org.post(query, variables, role="auditor", subject="auditor-1").json()
    assert "errors" not in body, body
    data: dict[str, object] = body["data"]
    return data


def test_the_checkpoint_is_signed_by_the_servers_key(org: Seeded) -> None:
    cp = _data(org, CHECKPOINT)["checkpoint"]
    assert isinstance(cp, dict)
    opened = open_checkpoint(cp["note"], VERIFIER)
    assert (cp["origin"], cp["treeSize"]) == ("ladder.test/log", opened.size)
    assert base64.b64decode(cp["rootHash"]) == opened.root


def test_an_audit_proof_is_a_bundle_that_verifies_offline(org: Seeded) -> None:
    proof = _data(org, AUDIT_PROOF, {"id": ORG["employee"]})["auditProof"]
    assert isinstance(proof, dict)
    checkpoint, findings = verify_bundle(orjson.dumps(proof["bundle"]), VERIFIER)
    assert findings == []
    assert checkpoint is not None and checkpoint.size == proof["checkpoint"]["treeSize"]
    assert [e["streamVersion"] for e in proof["events"]] == list(range(1, len(proof["events"]) + 1))
    # Against a checkpoint the auditor already holds:
    again = _data(org, AUDIT_PROOF, {"id": ORG["employee"], "cp": proof["checkpoint"]["note"]})
    assert again["auditProof"]["events"] == proof["events"]  # type: ignore[index]


def test_a_consistency_proof_links_an_older_tree_to_the_current_one(org: Seeded) -> None:
    got = _data(org, CONSISTENCY, {"from": 3})["consistencyProof"]
    assert isinstance(got, dict)

    async def roots() -> tuple[bytes, bytes]:
        store = await create_store(org.url, migrate=False)
        try:
            return (await store.tree_root(3))[1], (await store.tree_root(got["toSize"]))[1]
        finally:
            await store.close()

    old, new = asyncio.run(roots())
    proof = [base64.b64decode(p) for p in got["proof"]]
    verify_consistency(3, got["toSize"], old, new, proof)


def test_proofs_are_for_hr_and_auditors_only(org: Seeded) -> None:
    for role in ("employee", "manager"):
        body = org.post(CHECKPOINT, role=role, subject=ORG["employee"]).json()
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = org.post(CONSISTENCY, {"from": 10**9}, role="hr").json()
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"
