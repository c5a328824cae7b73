"""The start-up summary shows no secret; log records become one JSON object each."""

from __future__ import annotations

import json
import logging

from api.logs import JsonFormatter, logging_config
from api.settings import Settings
from api.startup import StartupSummary, safe_url
from events.checkpoints import Lag


def summary(**overrides: object) -> StartupSummary:
    settings = Settings(_env_file=None, **overrides)  # type: ignore[arg-type]
    return StartupSummary(
        settings,
        "postgresql://ladder:hunter2@db:5432/ladder",
        "0.0.0.0",
        8000,
        4,
        1234,
        [Lag("people", 0, None), Lag("timeline", 3, None)],
    )


def test_the_summary_never_shows_the_database_password_or_the_token_secret() -> None:
    text = "\n".join(summary(token_secret="t" * 40, env="production").lines())
    assert "hunter2" not in text
    assert "t" * 40 not in text
    assert "postgresql://ladder:***@db:5432/ladder" in text
    assert "hunter2" not in json.dumps(summary().fields())


def test_the_summary_names_mode_switches_and_read_models_behind() -> None:
    lines = summary(env="production", token_secret="t" * 40, metrics_token="m" * 20).lines()
    text = "\n".join(lines)
    assert "production" in text
    assert "GraphiQL      off" in text
    assert "introspection off" in text
    assert "timeline 3 behind" in text
    assert "bearer LADDER_METRICS_TOKEN" in text
    assert "any document accepted" in text
    trusted = "\n".join(summary(trusted_documents=True).lines())
    assert "only these accepted" in trusted
    development = "\n".join(summary().lines())
    assert "development default (anyone can mint tokens" in development
    assert "GraphiQL      on" in development


def test_an_unparsable_database_url_is_not_echoed() -> None:
    assert safe_url("::not a url with secret::") == "<unparsable URL>"


def test_a_log_record_becomes_one_json_object_with_its_fields() -> None:
    record = logging.LogRecord("api.access", logging.INFO, __file__, 1, "POST %s", ("/x",), None)
    record.fields = {"request_id": "r-1", "status": 200}
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "POST /x"
    assert entry["level"] == "info"
    assert entry["logger"] == "api.access"
    assert entry["request_id"] == "r-1"
    assert entry["status"] == 200


def test_text_logs_use_a_plain_format_and_uvicorns_access_log_is_off() -> None:
    config = logging_config("text", "debug")
    assert "format" in config["formatters"]["default"]
    assert config["root"]["level"] == "DEBUG"
    assert config["loggers"]["uvicorn.access"] == {"handlers": [], "propagate": False}
    assert "()" in logging_config("json")["formatters"]["default"]
