"""Signed notes and checkpoints, against golang.org/x/mod/sumdb/note's test vectors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.tlog import (
    Checkpoint,
    CheckpointError,
    NoteSigner,
    NoteVerifier,
    open_checkpoint,
    open_note,
    sign_checkpoint,
)

# golang.org/x/mod/sumdb/note/note_test.go (BSD licence).
PETER_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
SIGNED = (
    TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
    "KvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWL"
    "ox33WWd1RvMc+QQ=\n"
)


def test_keys_parse_and_print_as_the_note_package_writes_them() -> None:
    signer = NoteSigner.parse(PETER_SIGNER)
    assert signer.text() == PETER_SIGNER
    assert signer.verifier().text() == PETER_VERIFIER
    assert NoteVerifier.parse(PETER_VERIFIER).text() == PETER_VERIFIER


def test_signing_gives_the_reference_signature_byte_for_byte() -> None:
    assert NoteSigner.parse(PETER_SIGNER).sign(TEXT) == SIGNED  # Ed25519 is deterministic


def test_a_note_opens_with_its_key_and_ignores_other_signers() -> None:
    verifier = NoteVerifier.parse(PETER_VERIFIER)
    assert open_note(SIGNED, verifier) == TEXT
    assert open_note(SIGNED + ENOCH_SIG, verifier) == TEXT


@pytest.mark.parametrize(
    "note",
    [
        SIGNED.replace("problem,", "problem;"),  # the text changed
        SIGNED.replace("x08go", "x09go"),  # the signature changed
        TEXT + "\n" + ENOCH_SIG,  # signed by someone else only
        TEXT,  # not signed at all
    ],
)
def test_a_changed_or_foreign_note_is_refused(note: str) -> None:
    with pytest.raises(CheckpointError):
        open_note(note, NoteVerifier.parse(PETER_VERIFIER))


def test_a_bad_key_is_refused() -> None:
    with pytest.raises(CheckpointError):
        NoteVerifier.parse(PETER_VERIFIER.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(CheckpointError):
        NoteSigner.parse(PETER_SIGNER.replace("c74f20a3", "c74f20a4"))


def test_a_checkpoint_is_the_c2sp_text_signed_with_the_origin_as_key_name() -> None:
    signer = NoteSigner.generate("ladder.example/log")
    at = datetime(2026, 12, 4, 21, 0, tzinfo=UTC)
    checkpoint = Checkpoint("ladder.example/log", 42, bytes(range(32)), at)
    assert checkpoint.text() == (
        "ladder.example/log\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
        "time 2026-12-04T21:00:00Z\n"
    )
    note = sign_checkpoint(signer, checkpoint)
    assert open_checkpoint(note, signer.verifier()) == checkpoint
    with pytest.raises(CheckpointError):
        open_checkpoint(note.replace("\n42\n", "\n41\n"), signer.verifier())
    with pytest.raises(CheckpointError):
        open_checkpoint(note, NoteSigner.generate("ladder.example/log").verifier())
