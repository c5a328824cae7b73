"""Signed tree heads in the C2SP formats, so that existing transparency-log tooling reads them.

* A **checkpoint** (C2SP ``tlog-checkpoint``) is the note text::

      <origin>\\n<tree size, decimal>\\n<root hash, standard base64>\\n[extension lines\\n]

  We add one extension line, ``time <RFC 3339 UTC>``, when the checkpoint was signed.
* It is signed as a C2SP ``signed-note``: the text, an empty line, then one line per
  signature, ``\\u2014 <key name> <base64(4-byte key id || signature)>``. The key name is
  the log's origin. Ed25519 only: key id = ``SHA-256(name || 0x0A || 0x01 || public
  key)[:4]``, the signature covers the note text (the checkpoint, final newline included).
* Keys are text in the ``golang.org/x/mod/sumdb/note`` encodings: a verifier key
  ``<name>+<key id hex>+<base64(0x01 || 32-byte public key)>`` and a signer key
  ``PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || 32-byte seed)>``.

Ed25519 comes from the ``cryptography`` package; nothing here touches a database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

ALG_ED25519 = b"\x01"
DASH = "\u2014 "


class CheckpointError(ValueError):
    """A key or checkpoint that is malformed, or a signature that does not verify."""


def _check_name(name: str) -> str:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise CheckpointError(f"key name {name!r} must be non-empty, with no space or '+'")
    return name


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ALG_ED25519 + public).digest()[:4]


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(f"{what} is not base64") from None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: the log's ``origin``, its ``size`` and the Merkle ``root`` of that size."""

    origin: str
    size: int
    root: bytes
    time: datetime | None = None

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        if self.time is not None:
            at = self.time.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
            lines.append(f"time {at}")
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        if not text.endswith("\n"):
            raise CheckpointError("a checkpoint ends with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("a checkpoint has an origin, a size and a root hash")
        origin, size_text, root_text, *extensions = lines
        if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
            raise CheckpointError(f"tree size {size_text!r} is not a decimal number")
        root = _b64(root_text, "the root hash")
        if len(root) != 32:
            raise CheckpointError("the root hash is not 32 bytes")
        time = None
        for line in extensions:
            if not line:
                raise CheckpointError("a checkpoint has no empty line")
            if line.startswith("time "):
                try:
                    time = datetime.fromisoformat(line[5:].replace("Z", "+00:00"))
                except ValueError:
                    raise CheckpointError(f"bad time line {line!r}") from None
        return cls(origin, int(size_text), root, time)


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A public key that checks signed notes."""

    name: str
    key: Ed25519PublicKey
    id: bytes

    @classmethod
    def parse(cls, text: str) -> NoteVerifier:
        parts = text.strip().split("+", 2)  # base64 may hold '+'
        if len(parts) != 3:
            raise CheckpointError("a verifier key is <name>+<key id>+<base64 key>")
        name, hex_id, raw = parts
        key = _b64(raw, "the verifier key")
        if len(key) != 33 or key[:1] != ALG_ED25519:
            raise CheckpointError("not an Ed25519 verifier key")
        if key_id(_check_name(name), key[1:]).hex() != hex_id.lower():
            raise CheckpointError("the verifier key's id does not match its name and key")
        return cls(name, Ed25519PublicKey.from_public_bytes(key[1:]), bytes.fromhex(hex_id))

    def text(self) -> str:
        raw = self.key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(ALG_ED25519 + raw).decode()}"


@dataclass(frozen=True, slots=True)
class NoteSigner:
    """A private key that signs notes (kept in a file outside the database)."""

    name: str
    key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        return cls(_check_name(name), Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, text: str) -> NoteSigner:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise CheckpointError("a signer key is PRIVATE+KEY+<name>+<key id>+<base64 key>")
        name, hex_id, raw = parts[2:]
        seed = _b64(raw, "the signer key")
        if len(seed) != 33 or seed[:1] != ALG_ED25519:
            raise CheckpointError("not an Ed25519 signer key")
        signer = cls(_check_name(name), Ed25519PrivateKey.from_private_bytes(seed[1:]))
        if signer.verifier().id.hex() != hex_id.lower():
            raise CheckpointError("the signer key's id does not match its name and key")
        return signer

    def verifier(self) -> NoteVerifier:
        public = self.key.public_key()
        raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return NoteVerifier(self.name, public, key_id(self.name, raw))

    def text(self) -> str:
        seed = self.key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        raw = base64.b64encode(ALG_ED25519 + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier().id.hex()}+{raw}"

    def sign(self, text: str) -> str:
        """The signed note: ``text``, an empty line, this key's signature line."""
        if not text.endswith("\n"):
            raise CheckpointError("a note's text ends with a newline")
        signature = self.key.sign(text.encode())
        blob = base64.b64encode(self.verifier().id + signature).decode()
        return f"{text}\n{DASH}{self.name} {blob}\n"


def sign_checkpoint(signer: NoteSigner, checkpoint: Checkpoint) -> str:
    if checkpoint.origin != signer.name:
        raise CheckpointError(
            f"the checkpoint's origin {checkpoint.origin!r} is not the key's name {signer.name!r}"
        )
    return signer.sign(checkpoint.text())


def open_note(note: str, verifier: NoteVerifier) -> str:
    """The text of a signed note, once a signature by ``verifier`` checks out.

    Signatures by other keys are ignored (a witness may cosign); at least one must be ours.
    """
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise CheckpointError("not a signed note (text, an empty line, signature lines)")
    text += "\n"
    ours = False
    for line in signatures[:-1].split("\n"):
        if not line.startswith(DASH):
            raise CheckpointError("a signature line starts with an em dash and a space")
        name, _, blob_text = line[len(DASH) :].rpartition(" ")
        blob = _b64(blob_text, "a signature")
        if len(blob) < 5 or name != verifier.name or blob[:4] != verifier.id:
            continue
        try:
            verifier.key.verify(blob[4:], text.encode())
        except InvalidSignature:
            raise CheckpointError(f"the signature by {name} does not verify") from None
        ours = True
    if not ours:
        raise CheckpointError(f"the note has no signature by {verifier.name} ({verifier.id.hex()})")
    return text


def open_checkpoint(note: str, verifier: NoteVerifier) -> Checkpoint:
    """Verify a signed checkpoint and parse it; its origin must be the key's name."""
    checkpoint = Checkpoint.parse(open_note(note, verifier))
    if checkpoint.origin != verifier.name:
        raise CheckpointError(
            f"the checkpoint is for log {checkpoint.origin!r}, not {verifier.name!r}"
        )
    return checkpoint
