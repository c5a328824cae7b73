"""Trusted documents: GraphQL documents registered ahead of time, by SHA-256.

The registry is a JSON file (``LADDER_DOCUMENTS_FILE``, default ``trusted-documents.json``)
mapping ``sha256:<hex>`` to the document's text, written by ``ladder documents add`` and
deployed with the server (as persisted-query manifests are, e.g. GitHub's and Shopify's
clients'). It is read when the app is created.

* A request may name a registered document instead of sending it: ``documentId``
  (``sha256:<hex>``, the GraphQL over HTTP persisted-documents form) in the JSON body or the
  query string. An unknown id is refused (400, ``PERSISTED_DOCUMENT_NOT_FOUND``).
* With ``LADDER_TRUSTED_DOCUMENTS=on`` every other document is refused, on every transport
  (HTTP, WebSocket, server-sent events), with ``DOCUMENT_NOT_TRUSTED``: a client may send the
  text of a registered document, never a new one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

DOCUMENT_NOT_TRUSTED = "DOCUMENT_NOT_TRUSTED"
PERSISTED_DOCUMENT_NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"
PREFIX = "sha256:"


def document_id(text: str) -> str:
    """The id of a document: ``sha256:`` and the hex SHA-256 of its UTF-8 text."""
    return PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


class DocumentsFileError(ValueError):
    """The documents file is not a JSON object of ``sha256:<hex>`` to matching text."""


@dataclass
class TrustedDocuments:
    """The registered documents, by id."""

    documents: dict[str, str] = field(default_factory=dict)
    only_trusted: bool = False

    @classmethod
    def load(cls, path: Path, *, only_trusted: bool = False) -> TrustedDocuments:
        """Read ``path`` (an absent file is an empty registry); check every id."""
        if not path.exists():
            return cls({}, only_trusted)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DocumentsFileError(f"{path}: {exc}") from exc
        if not isinstance(raw, dict):
            raise DocumentsFileError(f"{path}: not a JSON object")
        for key, text in raw.items():
            if not isinstance(text, str) or document_id(text) != key:
                raise DocumentsFileError(f"{path}: {key} is not the SHA-256 of its document")
        return cls(dict(raw), only_trusted)

    def save(self, path: Path) -> None:
        text = json.dumps(dict(sorted(self.documents.items())), indent=2, ensure_ascii=False)
        path.write_text(text + "\n", encoding="utf-8")

    def add(self, text: str) -> tuple[str, bool]:
        """Register ``text``; return its id and whether it was new."""
        key = document_id(text)
        new = key not in self.documents
        self.documents[key] = text
        return key, new

    def lookup(self, key: str) -> str | None:
        """The text of ``key`` (``sha256:<hex>``; a bare hex digest is accepted too)."""
        key = key if key.startswith(PREFIX) else PREFIX + key
        return self.documents.get(key.lower())

    def trusts(self, text: str) -> bool:
        return not self.only_trusted or document_id(text) in self.documents

    def __len__(self) -> int:
        return len(self.documents)

    def items(self) -> Iterator[tuple[str, str]]:
        return iter(sorted(self.documents.items()))


def not_trusted_error() -> GraphQLError:
    return GraphQLError(
        "Only registered documents are accepted here (`ladder documents add`); "
        "send a registered document or its documentId.",
        extensions={"code": DOCUMENT_NOT_TRUSTED},
    )


class TrustedDocumentsExtension(SchemaExtension):
    """Refuses, at validation, any document the registry does not trust."""

    def __init__(self, documents: TrustedDocuments) -> None:
        super().__init__()
        self.documents = documents

    def on_validate(self) -> Iterator[None]:
        query = self.execution_context.query
        if query is not None and not self.documents.trusts(query):
            # Entered after the limits' hook (which validates): replace its errors, so the
            # only answer is this one, and Strawberry then skips its own validation.
            self.execution_context.pre_execution_errors = [not_trusted_error()]
        yield
