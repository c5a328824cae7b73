"""The test vectors ``docs/audit.md`` ships (``docs/audit-vectors/``) are what the code makes.

Regenerate after a deliberate format change: ``python -m tests.unit.store.test_audit_vectors``.
"""

from __future__ import annotations

import base64
import sys
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import orjson

from events.bundle import FORMAT, FORMAT_VERSION, verify_bundle
from events.hashing import entry_bytes
from events.merkle import CompactTree, inclusion_ranges, leaf_hash, range_hash
from events.tlog import Checkpoint, NoteSigner, open_checkpoint, sign_checkpoint

VECTORS = Path(__file__).resolve().parents[3] / "docs" / "audit-vectors"
# A key for test vectors only: never sign a real log with it.
SIGNER = NoteSigner.parse(
    "PRIVATE+KEY+vectors.ladder.example/log+4605af24+AQdDgCVuAtHorJ4+/W9cdUR2W9IXw+CSviCEFjWBSs2F"
)
PERSON = "person-6f1c2a9e-0c4e-4d8e-9a63-1f2b3c4d5e6f"
AT = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


def _log() -> list[bytes]:
    """Five entries: a ladder, the person's hire and promotion, another person, a note."""
    events: list[tuple[str, int, str, dict[str, object]]] = [
        ("ladder-product", 1, "LadderPublished", {"track": "product", "version": 1}),
        (PERSON, 1, "PersonHired", {"name": "Ada Lovelace", "level": "apm"}),
        ("person-00000000-0000-4000-8000-000000000001", 1, "PersonHired", {"name": "B"}),
        (PERSON, 2, "PromotionRecorded", {"to_level": "pm", "effective_on": "2021-06-01"}),
        ("person-00000000-0000-4000-8000-000000000001", 2, "TrainingCompleted", {"course": "x"}),
    ]
    return [
        entry_bytes(
            position=i,
            event_id=UUID(int=i),
            stream=stream,
            version=version,
            type=type_,
            schema_version=1,
            data=data,
            metadata={"actor_id": "hr-1", "actor_role": "hr"},
            recorded_at=AT,
        )
        for i, (stream, version, type_, data) in enumerate(events, start=1)
    ]


def make_vectors() -> dict[str, bytes]:
    entries = _log()
    tree = CompactTree()
    nodes = {(lvl, idx): h for e in entries for lvl, idx, h in tree.append(leaf_hash(e))}
    size = len(entries)
    signer_name = SIGNER.name
    note = sign_checkpoint(SIGNER, Checkpoint(signer_name, size, tree.root(), AT))
    bundle = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "stream": PERSON,
        "checkpoint": note,
        "events": [
            {
                "entry": entries[p - 1].decode(),
                "inclusion": [
                    base64.b64encode(range_hash(a, b, nodes)).decode()
                    for a, b in inclusion_ranges(p - 1, size)
                ],
            }
            for p in (2, 4)
        ],
        "consistency": [],
    }
    leaves = "".join(
        f"{i}\t{leaf_hash(e).hex()}\t{e.decode()}\n" for i, e in enumerate(entries, start=1)
    )
    return {
        "vectors.pub": (SIGNER.verifier().text() + "\n").encode(),
        "checkpoint": note.encode(),
        "leaves.tsv": leaves.encode(),
        "bundle.json": orjson.dumps(bundle, option=orjson.OPT_INDENT_2) + b"\n",
    }


def test_the_shipped_vectors_are_what_the_code_makes() -> None:
    for name, content in make_vectors().items():
        assert (VECTORS / name).read_bytes() == content, name


def test_the_shipped_bundle_verifies_with_the_shipped_key() -> None:
    from events.tlog import NoteVerifier

    verifier = NoteVerifier.parse((VECTORS / "vectors.pub").read_text())
    checkpoint, findings = verify_bundle((VECTORS / "bundle.json").read_bytes(), verifier)
    assert findings == []
    assert checkpoint == open_checkpoint((VECTORS / "checkpoint").read_text(), verifier)


if __name__ == "__main__":
    VECTORS.mkdir(parents=True, exist_ok=True)
    for name, content in make_vectors().items():
        (VECTORS / name).write_bytes(content)
    sys.stdout.write(f"wrote {', '.join(make_vectors())} to {VECTORS}\n")
