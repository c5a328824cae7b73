"""URL normalisation and PostgreSQL options parsing (engines are built, never connected)."""

from __future__ import annotations

import pytest

from events.db import _parse_pg_options, create_engine, normalize_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u:p@h:5432/d", "postgresql+asyncpg://u:p@h:5432/d"),
        ("postgres://h/d", "postgresql+asyncpg://h/d"),
        ("postgresql+asyncpg://h/d", "postgresql+asyncpg://h/d"),
    ],
)
def test_urls_are_normalised_to_async_drivers(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        normalize_url("mysql://h/d")


def test_libpq_options_become_server_settings() -> None:
    assert _parse_pg_options("-csearch_path=abc -c statement_timeout=5s") == {
        "search_path": "abc",
        "statement_timeout": "5s",
    }


def test_sqlite_in_memory_is_refused() -> None:
    with pytest.raises(ValueError, match="file"):
        create_engine("sqlite:///:memory:")
