"""Offline proof bundles: one stream's events, proven to be in a signed checkpoint.

A bundle is one JSON object (``docs/audit.md`` specifies it)::

    {"format": "career-ladder-proof", "format_version": 1,
     "stream": "person-<uuid>",
     "checkpoint": "<the signed note, verbatim>",
     "events": [{"entry": "<entry bytes, UTF-8 JSON text>", "inclusion": ["<base64>", ...]}],
     "consistency": [{"from_size": 40, "proof": ["<base64>", ...]}]}

``entry`` is exactly what the Merkle leaf hashes (``events.hashing.entry_bytes``);
``inclusion`` is its RFC 9162 inclusion path in the checkpoint's tree (leaf index =
position - 1); ``consistency`` proves the checkpoint's tree extends earlier ones.

``verify_bundle`` needs no database and no network: the public key, the bundle and,
optionally, an older checkpoint the auditor kept.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from events.merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion
from events.rows import ENTRY_COLUMNS
from events.schema import events_table as T
from events.tlog import Checkpoint, CheckpointError, NoteVerifier, open_checkpoint
from events.tree import (
    ENTRY_SELECTION,
    consistency_proof,
    inclusion_proofs,
    root_at,
    row_entry,
    tree_size,
)
from events.tree_audit import Finding

FORMAT = "career-ladder-proof"
FORMAT_VERSION = 1
ENTRY_FIELDS = frozenset(ENTRY_COLUMNS)


class BundleError(ValueError):
    """The log cannot back a bundle for this checkpoint (or the bundle is not one)."""


def _b64(values: Sequence[bytes]) -> list[str]:
    return [base64.b64encode(v).decode() for v in values]


# --- building (needs the database) -------------------------------------------------------


async def build_bundle(
    engine: AsyncEngine,
    stream: str,
    note: str,
    checkpoint: Checkpoint,
    earlier: Sequence[Checkpoint] = (),
) -> dict[str, Any]:
    """The bundle of ``stream``'s events up to ``checkpoint.size``, proven in it."""
    size = checkpoint.size
    async with engine.connect() as conn:
        if await tree_size(conn) < size:
            raise BundleError(f"the log has fewer than the checkpoint's {size} events")
        if await root_at(conn, size) != checkpoint.root:
            raise BundleError("the log's tree no longer matches the checkpoint: run ladder verify")
        q = (
            sa.select(*ENTRY_SELECTION)
            .where(T.c.stream == stream, T.c.position <= size)
            .order_by(T.c.version)
        )
        rows = (await conn.execute(q)).all()
        proofs = await inclusion_proofs(conn, [r[0] - 1 for r in rows], size)
        consistency = [
            {
                "from_size": c.size,
                "proof": _b64(await consistency_proof(conn, c.size, size)),
            }
            for c in earlier
            if 0 < c.size <= size
        ]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "stream": stream,
        "checkpoint": note,
        "events": [
            {"entry": row_entry(*r).decode(), "inclusion": _b64(p)}
            for r, p in zip(rows, proofs, strict=True)
        ],
        "consistency": consistency,
    }


# --- verifying (no database) ---------------------------------------------------------------


def verify_bundle(
    raw: bytes, verifier: NoteVerifier, earlier: Checkpoint | None = None
) -> tuple[Checkpoint | None, list[Finding]]:
    """Check a bundle; every finding is graded (``Finding``). No findings: it holds."""
    try:
        bundle = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BundleError("the bundle is not JSON") from None
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise BundleError(f"not a {FORMAT} bundle")
    if bundle.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"unknown bundle format version {bundle.get('format_version')!r}")
    try:
        checkpoint = open_checkpoint(str(bundle.get("checkpoint")), verifier)
    except CheckpointError as exc:
        return None, [Finding("manipulation", f"checkpoint: {exc}")]
    findings: list[Finding] = []
    stream = bundle.get("stream")
    events = bundle.get("events")
    if not isinstance(events, list) or not events:
        return checkpoint, [Finding("gap", "the bundle holds no events")]
    last_version, last_position = 0, 0
    for n, item in enumerate(events, start=1):
        entry = _entry(item, n, findings)
        if entry is None:
            continue
        fields, raw_entry, proof = entry
        where = f"{fields['stream']} version {fields['version']} (position {fields['position']})"
        try:
            leaf = leaf_hash(raw_entry)
            verify_inclusion(leaf, fields["position"] - 1, checkpoint.size, proof, checkpoint.root)
        except ProofError as exc:
            findings.append(Finding("manipulation", f"{where}: {exc}"))
        if fields["stream"] != stream:
            findings.append(Finding("manipulation", f"{where}: not of stream {stream}"))
        if fields["version"] != last_version + 1 or fields["position"] <= last_position:
            findings.append(
                Finding(
                    "gap",
                    f"{where} follows version {last_version} (position {last_position}): "
                    "an event is missing or out of order",
                )
            )
        last_version, last_position = fields["version"], fields["position"]
    if earlier is not None:
        findings.extend(_consistency(bundle.get("consistency"), earlier, checkpoint))
    return checkpoint, findings


def _entry(
    item: object, n: int, findings: list[Finding]
) -> tuple[dict[str, Any], bytes, list[bytes]] | None:
    try:
        if not isinstance(item, dict):
            raise ValueError("not an object")
        raw_entry = str(item["entry"]).encode()
        fields = orjson.loads(raw_entry)
        if not isinstance(fields, dict) or set(fields) != ENTRY_FIELDS:
            raise ValueError("the entry does not have the entry fields")
        if orjson.dumps(fields, option=orjson.OPT_SORT_KEYS) != raw_entry:
            raise ValueError("the entry is not in canonical form")
        for name in ("position", "version"):
            if not isinstance(fields[name], int) or fields[name] < 1:
                raise ValueError(f"bad {name}")
        proof = [base64.b64decode(p, validate=True) for p in item["inclusion"]]
    except (KeyError, TypeError, ValueError, binascii.Error, orjson.JSONDecodeError) as exc:
        findings.append(Finding("manipulation", f"event {n} of the bundle is malformed: {exc}"))
        return None
    return fields, raw_entry, proof


def _consistency(items: object, earlier: Checkpoint, checkpoint: Checkpoint) -> list[Finding]:
    if earlier.origin != checkpoint.origin:
        return [Finding("manipulation", "the earlier checkpoint is of another log")]
    if earlier.size > checkpoint.size:
        return [
            Finding(
                "gap",
                f"the bundle's checkpoint covers {checkpoint.size} events, fewer than the "
                f"{earlier.size} of the earlier checkpoint: the log was truncated",
            )
        ]
    if earlier.size == checkpoint.size:
        if earlier.root != checkpoint.root:
            return [Finding("manipulation", "two checkpoints of one size with different roots")]
        return []
    found = next(
        (
            i
            for i in (items if isinstance(items, list) else [])
            if isinstance(i, dict) and i.get("from_size") == earlier.size
        ),
        None,
    )
    if found is None:
        return [
            Finding(
                "gap",
                f"the bundle has no consistency proof from size {earlier.size} "
                "(ladder prove --after-checkpoint makes one)",
            )
        ]
    try:
        proof = [base64.b64decode(p, validate=True) for p in found.get("proof", [])]
        verify_consistency(earlier.size, checkpoint.size, earlier.root, checkpoint.root, proof)
    except (ProofError, binascii.Error, TypeError, ValueError) as exc:
        return [
            Finding(
                "manipulation",
                f"the log of the bundle does not extend the earlier checkpoint of "
                f"{earlier.size} events: {exc}",
            )
        ]
    return []
