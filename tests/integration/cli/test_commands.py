"""``ladder`` help, token, schema, migrate, rebuild, and errors: one line, a documented code."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from api.auth import Role, decode_token
from api.cli.errors import EXIT_CODES
from api.schema_export import export_sdl
from api.settings import Settings
from tests.integration.cli.helpers import count, ladder, with_db
from tests.support import PG_BASE_URL

COMMANDS = (
    "serve",
    "demo",
    "replay",
    "verify",
    "keygen",
    "checkpoint",
    "prove",
    "verify-proof",
    "rebuild",
    "export",
    "import",
    "token",
    "schema",
    "migrate",
    "documents",
)


def test_help_lists_every_command_and_the_exit_codes() -> None:
    ran = ladder("--help")
    assert ran.exit_code == 0
    for command in COMMANDS:
        assert command in ran.stdout
    assert "Exit codes" in ran.stdout
    for code, _ in EXIT_CODES:
        assert f" {int(code)} " in ran.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    ran = ladder(command, "--help")
    assert ran.exit_code == 0, ran.stderr
    assert f"ladder {command}" in ran.stdout


def test_token_decodes_with_the_role_and_subject_asked_for() -> None:
    secret = "a-test-secret-long-enough-for-hs256-0123456789"
    ran = ladder(
        "token", "--role", "auditor", "--subject", "alice", "--ttl", "30m",
        env={"LADDER_TOKEN_SECRET": secret},
    )  # fmt: skip
    assert ran.exit_code == 0, ran.stderr
    principal = decode_token(secret, ran.stdout.strip())
    assert principal is not None
    assert principal.role is Role.AUDITOR
    assert principal.subject == "alice"


def test_token_uses_the_configured_secret() -> None:
    ran = ladder("token", "--role", "hr", "--subject", "bob")
    assert ran.exit_code == 0, ran.stderr
    principal = decode_token(Settings(_env_file=None).token_secret, ran.stdout.strip())
    assert principal is not None and principal.role is Role.HR


def test_schema_prints_the_sdl() -> None:
    ran = ladder("schema")
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout == export_sdl()
    assert "type Query {" in ran.stdout


def test_migrate_is_idempotent(db_url: str) -> None:
    first = with_db(db_url, "migrate")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.startswith("migrated from an empty database to revision")
    again = with_db(db_url, "migrate")
    assert again.exit_code == 0, again.stderr
    assert again.stdout.startswith("already at revision")
    assert count(db_url) == 0


def test_rebuild_rebuilds_one_or_every_projection(demo_db: str) -> None:
    every = with_db(demo_db, "rebuild", "-q")
    assert every.exit_code == 0, every.stderr
    assert "people" in every.stdout and "timeline" in every.stdout
    one = with_db(demo_db, "rebuild", "people", "-q")
    assert one.exit_code == 0, one.stderr
    assert one.stdout.startswith("rebuilt people up to position")
    shared = with_db(demo_db, "rebuild", "-q", "--workers", "2")  # a spawned process helps
    assert shared.exit_code == 0, shared.stderr
    assert shared.stdout == every.stdout


def _one_line(args: tuple[str, ...], code: int, words: str) -> None:
    ran = ladder(*args)
    assert ran.exit_code == code, (ran.stdout, ran.stderr)
    assert len(ran.error_lines) == 1, ran.stderr
    assert ran.error_lines[0].startswith("error: ")
    assert words in ran.error_lines[0]
    assert "Traceback" not in ran.stderr


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("frobnicate",), 2, "No such command"),
        (("token", "--role", "boss", "--subject", "x"), 2, "--role"),
        (("token", "--subject", "x"), 2, "Missing option"),
        (("token", "--role", "hr", "--subject", "x", "--ttl", "soon"), 4, "--ttl"),
        (("verify", "--database-url", "mysql://db/x"), 2, "unsupported database URL"),
        (("verify", "--stream", "Not A Stream", "--database-url", "sqlite:///x.db"), 2, "stream"),
        (("serve", "--workers", "2", "--database-url", "sqlite:///x.db"), 2, "PostgreSQL"),
        (("migrate", "--database-url", "postgresql://127.0.0.1:1/none"), 5, "unreachable"),
    ],
)
def test_errors_print_one_line_and_a_documented_code(
    args: tuple[str, ...], code: int, words: str
) -> None:
    _one_line(args, code, words)


def test_read_commands_do_not_create_a_missing_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nothing.db'}"
    _one_line(("verify", "--database-url", url), 3, "no database file")
    _one_line(("replay", "a@example.com", "--database-url", url), 3, "no database file")
    assert not (tmp_path / "nothing.db").exists()


def test_replay_errors(demo_db: str) -> None:
    url = ("--database-url", demo_db)
    _one_line(("replay", "nobody@example.com", *url), 3, "no person with email")
    _one_line(("replay", "00000000-0000-4000-8000-000000000000", *url), 3, "no person")
    _one_line(("replay", "not-an-id", *url), 4, "neither a person id")
    _one_line(("replay", "a@example.com", "--as-of", "2024-02-30", *url), 4, "--as-of")
    _one_line(("replay", "a@example.com", "--known-at", "yesterday", *url), 4, "--known-at")
    _one_line(("rebuild", "nope", *url), 3, "no projection 'nope'")


def test_a_database_without_the_log_is_reported(tmp_path: Path) -> None:
    (tmp_path / "empty.db").write_bytes(b"")
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    _one_line(("verify", "--database-url", url), 3, "ladder migrate")


def test_the_exit_code_table_in_the_docs_matches_the_code() -> None:
    docs = (Path(__file__).parents[3] / "docs" / "cli.md").read_text(encoding="utf-8")
    for code, text in EXIT_CODES:
        assert f"| {int(code)} | {text} |" in docs


def test_a_missing_postgresql_database_is_unreachable() -> None:
    url = make_url(PG_BASE_URL).set(database="no_such_database_here")
    _one_line(("verify", "--database-url", url.render_as_string(False)), 5, "unreachable")


@pytest.mark.parametrize(
    ("env", "args", "code", "words"),
    [
        ({"LADDER_ENV": "prod"}, ("verify",), 2, "LADDER_ENV"),
        ({"LADDER_PORT": "abc"}, ("serve",), 2, "LADDER_PORT"),
        ({"LADDER_MAX_DEPTH": "0"}, ("serve",), 2, "LADDER_MAX_DEPTH"),
        ({"LADDER_ENV": "production"}, ("serve",), 7, "development secret"),
        ({"LADDER_ENV": "production", "LADDER_TOKEN_SECRET": "short"}, ("serve",), 7, "32 bytes"),
        ({"LADDER_ENV": "production"}, ("token", "-r", "hr", "-s", "x"), 7, "development"),
        ({}, ("token", "-r", "hr", "-s", "x", "--ttl", "3650d"), 4, "LADDER_MAX_TOKEN_TTL_DAYS"),
        ({}, ("token", "-r", "hr", "-s", "x" * 201), 4, "--subject"),
        ({}, ("verify", "--database-url", "postgresql://h:notaport/db"), 2, "bad database URL"),
        ({}, ("verify", "--database-url", "not a url"), 2, "bad database URL"),
        ({}, ("verify", "--database-url", "sqlite://"), 2, "database URL needs a file"),
    ],
)
def test_bad_settings_and_secrets_are_one_line_naming_the_setting(
    env: dict[str, str], args: tuple[str, ...], code: int, words: str
) -> None:
    ran = ladder(*args, env=env)
    assert ran.exit_code == code, (ran.stdout, ran.stderr)
    assert len(ran.error_lines) == 1, ran.stderr
    assert words in ran.error_lines[0]
    assert "Traceback" not in ran.stderr


def test_serve_on_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        url = f"sqlite:///{tmp_path / 'serve.db'}"
        _one_line(("serve", "--port", port, "--database-url", url), 2, "in use")


def test_commands_that_only_read_refuse_a_missing_file_or_a_directory(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'typo.db'}"
    _one_line(("rebuild", "--database-url", missing), 3, "no database file")
    _one_line(("projections", "--database-url", missing), 3, "no database file")
    assert not (tmp_path / "typo.db").exists()
    _one_line(("verify", "--database-url", f"sqlite:///{tmp_path}"), 4, "is a directory")
