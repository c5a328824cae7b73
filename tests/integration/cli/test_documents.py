"""``ladder documents add|list``: the trusted documents registry file."""

from __future__ import annotations

import json
from pathlib import Path

from api.documents import document_id
from tests.integration.cli.helpers import ladder

LADDER = 'query Ladder { ladder(track: "product") { name } }\n'


def test_add_checks_registers_and_lists_documents_by_sha256(tmp_path: Path) -> None:
    registry = tmp_path / "documents.json"
    good = tmp_path / "ladder.graphql"
    good.write_text(LADDER)
    ran = ladder("documents", "add", str(good), "--documents-file", str(registry))
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.strip() == f"{document_id(LADDER)} {good} (added)"
    assert json.loads(registry.read_text()) == {document_id(LADDER): LADDER}

    again = ladder("documents", "add", str(good), "--documents-file", str(registry))
    assert "already registered" in again.stdout
    listed = ladder("documents", "list", "--documents-file", str(registry))
    assert listed.stdout.strip() == f"{document_id(LADDER)} Ladder"


def test_a_document_the_schema_refuses_is_not_registered(tmp_path: Path) -> None:
    registry = tmp_path / "documents.json"
    bad = tmp_path / "bad.graphql"
    bad.write_text('{ ladder(track: "product") { noSuchField } }')
    ran = ladder("documents", "add", str(bad), "--documents-file", str(registry))
    assert ran.exit_code == 4
    assert "noSuchField" in ran.stderr
    assert not registry.exists()


def test_the_registry_file_comes_from_the_settings(tmp_path: Path) -> None:
    registry = tmp_path / "from-env.json"
    good = tmp_path / "ladder.graphql"
    good.write_text(LADDER)
    ran = ladder("documents", "add", str(good), env={"LADDER_DOCUMENTS_FILE": str(registry)})
    assert ran.exit_code == 0, ran.stderr
    assert document_id(LADDER) in json.loads(registry.read_text())


def test_a_tampered_registry_is_refused(tmp_path: Path) -> None:
    registry = tmp_path / "documents.json"
    registry.write_text(json.dumps({document_id(LADDER): "{ viewer { role } }"}))
    ran = ladder("documents", "list", "--documents-file", str(registry))
    assert ran.exit_code == 4
    assert "not the SHA-256 of its document" in ran.stderr
