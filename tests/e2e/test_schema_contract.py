"""``schema.graphql`` is the contract: generated from the code, committed, checked here."""

from __future__ import annotations

from pathlib import Path

from graphql import build_schema

from api.schema_export import breaking_changes, export_sdl

COMMITTED = Path(__file__).resolve().parents[2] / "schema.graphql"
REGENERATE = "python -m api.schema_export > schema.graphql"


def test_the_committed_schema_matches_the_code() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == export_sdl(), (
        f"schema.graphql is out of date: run `{REGENERATE}` and commit it"
    )


def test_the_code_makes_no_breaking_change_to_the_committed_schema() -> None:
    changes = breaking_changes(COMMITTED.read_text(encoding="utf-8"))
    assert changes == [], (
        "breaking changes against schema.graphql (make them on purpose: deprecate first, "
        f"or regenerate with `{REGENERATE}` and say why in the commit):\n" + "\n".join(changes)
    )


def test_the_breaking_change_check_reports_a_removed_field() -> None:
    old = "type Query { ladder(track: String!): String, levels: [String!]! }"
    new = build_schema("type Query { levels: [String!]! }")
    assert breaking_changes(old, new) == ["FIELD_REMOVED: Field Query.ladder was removed."]


def test_the_breaking_change_check_allows_additions() -> None:
    old = "type Query { levels: [String!]! }"
    new = build_schema("type Query { levels: [String!]!, ladder(track: String): String }")
    assert breaking_changes(old, new) == []
