"""Offline proofs: ``ladder prove`` writes a person's bundle, ``ladder verify-proof`` checks
one with no database and no network (``events.bundle``; format in ``docs/audit.md``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import orjson
import typer

from api.cli.errors import Exit, fail, out, run
from api.cli.keys import load_checkpoint, load_signer, load_verifier, read_text, write_atomically
from api.cli.support import DatabaseUrl, existing_database

if TYPE_CHECKING:
    from events.tlog import Checkpoint, NoteSigner

KeyOption = Annotated[
    Path | None,
    typer.Option("--key", metavar="FILE", help="Signing key (default LADDER_CHECKPOINT_KEY)."),
]


def prove(
    person: Annotated[str, typer.Argument(help="The person's id (UUID).")],
    out_file: Annotated[Path, typer.Option("--out", metavar="FILE", help="Where to write it.")],
    checkpoint_file: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            metavar="FILE",
            help="Prove against this signed checkpoint (default: sign the current tree head "
            "with --key).",
        ),
    ] = None,
    after: Annotated[
        list[Path] | None,
        typer.Option(
            "--after-checkpoint",
            metavar="FILE",
            help="Also prove the log extends this earlier checkpoint (repeatable).",
        ),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            metavar="FILE",
            help="Verifier key for --checkpoint / --after-checkpoint (default: from --key).",
        ),
    ] = None,
    key: KeyOption = None,
    url: DatabaseUrl = None,
) -> None:
    """Write a self-contained proof bundle of one person's events (JSON)."""
    from domain.serialization import person_stream

    try:
        stream = person_stream(UUID(person))
    except ValueError:
        fail(f"{person!r} is not a person id (UUID)", Exit.BAD_INPUT)
    given: tuple[str, Checkpoint] | None = None
    signer = None
    if checkpoint_file is not None:
        verifier = load_verifier(public_key) if public_key else load_signer(key).verifier()
        given = read_text(checkpoint_file, "checkpoint"), load_checkpoint(checkpoint_file, verifier)
    else:
        signer = load_signer(key)
        verifier = load_verifier(public_key) if public_key else signer.verifier()
    earlier = [load_checkpoint(p, verifier) for p in after or []]
    bundle = run(_prove(existing_database(url), stream, given, signer, earlier))
    if not bundle["events"]:
        fail(f"no person {person} in the checkpoint's log", Exit.NOT_FOUND)
    write_atomically(out_file, orjson.dumps(bundle, option=orjson.OPT_INDENT_2).decode() + "\n")
    out.print(f"{len(bundle['events'])} events of {stream} proven, written to {out_file}")


async def _prove(
    url: str,
    stream: str,
    given: tuple[str, Checkpoint] | None,
    signer: NoteSigner | None,
    earlier: list[Checkpoint],
) -> dict[str, Any]:
    """The bundle against the ``given`` checkpoint, or the current head signed by ``signer``."""
    from events.bundle import BundleError, build_bundle
    from events.db import create_engine
    from events.sql_store import SqlEventStore
    from events.tlog import Checkpoint, sign_checkpoint

    engine = create_engine(url)
    try:
        if given is None and signer is not None:
            store = SqlEventStore(engine)
            size, root = await store.tree_root()
            await store.close()
            checkpoint = Checkpoint(signer.name, size, root, datetime.now(UTC))
            given = sign_checkpoint(signer, checkpoint), checkpoint
        if given is None:  # pragma: no cover - prove() passes one of the two
            fail("give --checkpoint or --key", Exit.USAGE)
        try:
            return await build_bundle(engine, stream, given[0], given[1], earlier)
        except BundleError as exc:
            fail(str(exc), Exit.VERIFY_FAILED)
    finally:
        await engine.dispose()


def verify_proof(
    bundle_file: Annotated[Path, typer.Argument(metavar="FILE", help="A bundle (ladder prove).")],
    public_key: Annotated[
        Path, typer.Option("--public-key", metavar="FILE", help="The log's verifier key.")
    ],
    after: Annotated[
        Path | None,
        typer.Option(
            "--after-checkpoint",
            metavar="FILE",
            help="An earlier checkpoint you kept: the bundle's log must extend it.",
        ),
    ] = None,
) -> None:
    """Check a proof bundle offline: signature, every inclusion proof, the stream's
    continuity and (with --after-checkpoint) consistency. No database, no network.

    Prints one line per finding (manipulation / gap / notice); exits 1 on any
    manipulation or gap.
    """
    from events.bundle import BundleError, verify_bundle

    verifier = load_verifier(public_key)
    earlier = load_checkpoint(after, verifier) if after is not None else None
    try:
        raw = bundle_file.read_bytes()
    except FileNotFoundError:
        fail(f"no bundle file {bundle_file}", Exit.NOT_FOUND)
    try:
        checkpoint, findings = verify_bundle(raw, verifier, earlier)
    except BundleError as exc:
        fail(f"{bundle_file}: {exc}", Exit.BAD_INPUT)
    for finding in findings:
        out.print(finding.line(), markup=False)
    bad = [f for f in findings if f.grade != "notice"]
    if bad or checkpoint is None:
        fail(f"verification failed: {len(bad)} finding(s)", Exit.VERIFY_FAILED)
    events = len(orjson.loads(raw)["events"])
    extends = f", extending the checkpoint of {earlier.size}" if earlier is not None else ""
    out.print(
        f"ok: {events} events proven in the signed checkpoint of {checkpoint.size} events "
        f"of {checkpoint.origin}{extends}",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Audit")(prove)
    app.command("verify-proof", rich_help_panel="Audit")(verify_proof)
