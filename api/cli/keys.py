"""Signing the log: ``ladder keygen`` and ``ladder checkpoint``, and reading keys and
checkpoints for the other audit commands.

The private key lives in a file outside the database (``--key``, else
``LADDER_CHECKPOINT_KEY``); auditors hold the public key. Both are text in the note
encodings (``events.tlog``). Checkpoints are written outside the database too.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.errors import Exit, fail, guard, out, run
from api.cli.support import DatabaseUrl, existing_database

if TYPE_CHECKING:
    from events.sql_store import SqlEventStore
    from events.tlog import Checkpoint, NoteSigner, NoteVerifier

# The signing and database machinery is imported by the functions that use it: every
# command module imports this one, and ``ladder --help`` imports every command module.


def read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"no {what} file {path}", Exit.NOT_FOUND)
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {what} file {path}: {exc}", Exit.BAD_INPUT)


def load_verifier(path: Path) -> NoteVerifier:
    from events.tlog import CheckpointError, NoteVerifier

    try:
        return NoteVerifier.parse(read_text(path, "public key"))
    except CheckpointError as exc:
        fail(f"{path}: {exc}", Exit.BAD_INPUT)


def load_signer(path: Path | None) -> NoteSigner:
    from api.settings import get_settings
    from events.tlog import CheckpointError, NoteSigner

    if path is None:
        configured = guard(get_settings).checkpoint_key
        if configured is None:
            fail("give --key or set LADDER_CHECKPOINT_KEY (ladder keygen makes one)", Exit.USAGE)
        path = Path(configured)
    try:
        return NoteSigner.parse(read_text(path, "signing key"))
    except CheckpointError as exc:
        fail(f"{path}: {exc}", Exit.BAD_INPUT)


def load_checkpoint(path: Path, verifier: NoteVerifier) -> Checkpoint:
    """A checkpoint file whose signature checks out; a bad one fails verification."""
    from events.tlog import CheckpointError, open_checkpoint

    try:
        return open_checkpoint(read_text(path, "checkpoint"), verifier)
    except CheckpointError as exc:
        fail(f"manipulation: checkpoint {path}: {exc}", Exit.VERIFY_FAILED)


def load_checkpoints(paths: list[Path], public_key: Path | None) -> list[Checkpoint]:
    if not paths:
        return []
    if public_key is None:
        fail("--checkpoint needs --public-key", Exit.USAGE)
    verifier = load_verifier(public_key)
    return [load_checkpoint(p, verifier) for p in paths]


def load_checkpoint_log(path: Path, public_key: Path | None) -> list[Checkpoint]:
    from events.publisher import read_checkpoint_log
    from events.tlog import CheckpointError

    if public_key is None:
        fail("--checkpoint-log needs --public-key", Exit.USAGE)
    verifier = load_verifier(public_key)
    try:
        return read_checkpoint_log(path, verifier)
    except FileNotFoundError:
        fail(f"no checkpoint log {path}", Exit.NOT_FOUND)
    except CheckpointError as exc:
        fail(f"manipulation: checkpoint log {path}: {exc}", Exit.VERIFY_FAILED)


def write_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- keygen ------------------------------------------------------------------------------


def keygen(
    name: Annotated[
        str,
        typer.Option("--name", help="The log's origin, e.g. ladder.example.com/log (no spaces)."),
    ],
    out_prefix: Annotated[
        Path,
        typer.Option("--out", metavar="PREFIX", help="Writes PREFIX.key (0600) and PREFIX.pub."),
    ],
) -> None:
    """Make an Ed25519 key pair for signing checkpoints; refuses to overwrite a key."""
    from events.tlog import CheckpointError, NoteSigner

    try:
        signer = NoteSigner.generate(name)
    except CheckpointError as exc:
        fail(str(exc), Exit.BAD_INPUT)
    private = out_prefix.with_name(out_prefix.name + ".key")
    public = out_prefix.with_name(out_prefix.name + ".pub")
    try:
        fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        fail(f"{private} exists: a signing key is never overwritten", Exit.CONFLICT)
    except OSError as exc:
        fail(f"cannot write {private}: {exc}", Exit.BAD_INPUT)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(signer.text() + "\n")
    public.write_text(signer.verifier().text() + "\n", encoding="utf-8")
    out.print(f"private key {private} (keep it off the database host and out of its backups)")
    out.print(f"public key  {public}: {signer.verifier().text()}", markup=False)


# --- checkpoint --------------------------------------------------------------------------


def checkpoint(
    key: Annotated[
        Path | None,
        typer.Option("--key", metavar="FILE", help="Signing key (default LADDER_CHECKPOINT_KEY)."),
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="Write the checkpoint here (default: print it). If FILE holds an earlier "
            "checkpoint, the log must extend it (consistency proof) or nothing is signed.",
        ),
    ] = None,
    url: DatabaseUrl = None,
) -> None:
    """Sign the log's current tree head as a C2SP checkpoint (an Ed25519 signed note)."""
    signer = load_signer(key)
    previous = None
    if out_file is not None and out_file.exists():
        previous = load_checkpoint(out_file, signer.verifier())
    note, signed = run(_checkpoint(existing_database(url), signer, previous))
    if out_file is None:
        print(note, end="")
        return
    write_atomically(out_file, note)
    out.print(f"signed checkpoint of {signed.size} events written to {out_file}")


async def _checkpoint(
    url: str, signer: NoteSigner, previous: Checkpoint | None
) -> tuple[str, Checkpoint]:
    from events.db import create_engine
    from events.sql_store import SqlEventStore
    from events.tlog import Checkpoint, sign_checkpoint

    engine = create_engine(url)
    try:
        store = SqlEventStore(engine)
        size, root = await store.tree_root()
        if previous is not None:
            await _extends(store, previous, size, root)
        await store.close()
    finally:
        await engine.dispose()
    checkpoint = Checkpoint(signer.name, size, root, datetime.now(UTC))
    return sign_checkpoint(signer, checkpoint), checkpoint


async def _extends(store: SqlEventStore, previous: Checkpoint, size: int, root: bytes) -> None:
    from events.merkle import ProofError, verify_consistency

    if previous.size > size:
        fail(
            f"the log has {size} events but the last checkpoint covers {previous.size}: "
            "refusing to sign a truncated log",
            Exit.VERIFY_FAILED,
        )
    if previous.size == 0:
        return
    try:
        proof = await store.consistency_proof(previous.size, size)
        verify_consistency(previous.size, size, previous.root, root, proof)
    except ProofError as exc:
        fail(
            f"the log does not extend the last checkpoint ({exc}): refusing to sign a "
            "rewritten history",
            Exit.VERIFY_FAILED,
        )


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Audit")(keygen)
    app.command(rich_help_panel="Audit")(checkpoint)
