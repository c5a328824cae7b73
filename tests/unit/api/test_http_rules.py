"""Accept negotiation, global IDs, settings and error shaping (no I/O)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from graphql import GraphQLError, parse
from graphql.pyutils import Path as ResponsePath

from api.errors import Forbidden, shape_error, user_errors
from api.http import GRAPHQL_RESPONSE_JSON, JSON, negotiate
from api.relay import decode_global_id, encode_global_id
from api.settings import DEV_TOKEN_SECRET, Settings


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/graphql-response+json, */*", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json;q=0.5, */*", JSON),
        ("application/json", JSON),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/json;q=1, application/graphql-response+json;q=0.2", JSON),
        ("application/graphql-response+json;q=0, application/json", JSON),
        ("text/html", None),
        ("application/xml, text/csv;q=0.5", None),
    ],
)
def test_accept_negotiation(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


def test_global_ids_round_trip_and_stay_opaque() -> None:
    global_id = encode_global_id("Level", "product:senior_pm")
    assert "senior_pm" not in global_id
    assert decode_global_id(global_id) == ("Level", "product:senior_pm")
    assert decode_global_id(global_id, expected_type="Level") == ("Level", "product:senior_pm")


@pytest.mark.parametrize(
    "bad", ["", "%%%", "bm9jb2xvbg==", encode_global_id("Level", "x") + "@", "A" * 600]
)
def test_malformed_global_ids_are_invalid(bad: str) -> None:
    with pytest.raises(Exception) as raised:
        decode_global_id(bad)
    assert getattr(raised.value, "code", None) == "INVALID_ID"


def test_a_global_id_of_another_type_is_invalid_where_a_type_is_expected() -> None:
    with pytest.raises(Exception, match="Person") as raised:
        decode_global_id(encode_global_id("Level", "x"), expected_type="Person")
    assert getattr(raised.value, "code", None) == "INVALID_ID"


def test_settings_default_to_development_with_the_tools_on() -> None:
    settings = Settings(_env_file=None)
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert (settings.max_depth, settings.max_aliases, settings.max_tokens) == (12, 15, 2000)
    assert settings.graphiql_enabled and settings.introspection_enabled


def test_production_turns_the_tools_off_unless_asked(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(_env_file=None, env="production", token_secret="x" * 40)
    assert not settings.graphiql_enabled
    assert not settings.introspection_enabled
    assert not settings.field_suggestions_enabled
    assert Settings(
        _env_file=None, env="production", token_secret="x" * 40, graphiql=True
    ).graphiql_enabled
    assert "LADDER_TOKEN_SECRET" not in caplog.text


def test_production_with_a_known_or_short_secret_is_insecure() -> None:
    def insecure(**values: Any) -> str | None:
        return Settings(_env_file=None, env="production", **values).insecure()

    assert "development secret" in str(insecure(token_secret=DEV_TOKEN_SECRET))
    assert "shorter than 32 bytes" in str(insecure(token_secret="x"))
    assert "LADDER_TOKEN_VERIFY_SECRETS" in str(
        insecure(token_secret="x" * 40, token_verify_secrets=["short"])
    )
    assert insecure(token_secret="x" * 40, token_verify_secrets=["y" * 32]) is None
    assert Settings(_env_file=None, token_secret="x").insecure() is None  # development


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LADDER_MAX_DEPTH", "7")
    monkeypatch.setenv("LADDER_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("LADDER_WS_ALLOWED_ORIGINS", '["https://c.example"]')
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/ladder")
    settings = Settings(_env_file=None)
    assert settings.max_depth == 7
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.ws_allowed_origins == ["https://c.example"]
    assert settings.database_url == "postgresql://db/ladder"
    monkeypatch.setenv("LADDER_DATABASE_URL", "sqlite:///preferred.db")
    assert Settings(_env_file=None).database_url == "sqlite:///preferred.db"


def test_settings_read_a_dotenv_file(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    (tmp_path / ".env").write_text("LADDER_ENV=production\nLADDER_TOKEN_SECRET=" + "s" * 40 + "\n")
    monkeypatch.chdir(tmp_path)
    assert Settings().env == "production"


def _located(original: Exception | None, message: str = "boom") -> GraphQLError:
    node = parse("{ a }").definitions[0]
    return GraphQLError(
        message, [node], path=ResponsePath(None, "a", None).as_list(), original_error=original
    )


def test_an_unexpected_exception_is_masked_with_an_id(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="api.errors")
    shaped = shape_error(_located(RuntimeError("password=hunter2")))
    assert shaped.message == "Internal server error"
    assert shaped.extensions is not None
    assert shaped.extensions["code"] == "INTERNAL"
    assert str(shaped.extensions["errorId"]) in caplog.text
    assert "hunter2" not in str(shaped.formatted)


def test_an_auth_error_keeps_its_code_and_message() -> None:
    shaped = shape_error(_located(Forbidden("Only HR may do that.")))
    assert shaped.formatted["message"] == "Only HR may do that."
    assert shaped.extensions == {"code": "FORBIDDEN"}


def test_domain_and_store_errors_keep_their_code_and_field() -> None:
    from domain.errors import LevelSkipped
    from events.errors import WrongExpectedVersion

    skipped = shape_error(_located(LevelSkipped("pm cannot jump to director")))
    assert skipped.extensions == {"code": "LEVEL_SKIPPED", "field": "toLevel"}
    conflict = shape_error(_located(WrongExpectedVersion("person-1", 3, 4)))
    assert conflict.extensions == {"code": "CONCURRENCY_CONFLICT", "field": "expectedVersion"}


def test_mutation_payload_errors_come_from_client_errors_only() -> None:
    from domain.errors import MentorAtCapacity

    (error,) = user_errors(MentorAtCapacity("already mentoring 5 people"))
    assert (error.code, error.message, error.field) == (
        "MENTOR_AT_CAPACITY",
        "already mentoring 5 people",
        "mentorId",
    )
    with pytest.raises(KeyError):
        user_errors(KeyError("not a client error"))
