"""Helpers shared by the test suites: PostgreSQL schemas per test, raw SQL behind the store."""

from __future__ import annotations

import os
import re
from functools import cache
from urllib.parse import quote
from uuid import uuid4

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

PG_BASE_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _libpq_dsn(url: str = PG_BASE_URL) -> str:
    u = make_url(url).set(drivername="postgresql")
    return u.render_as_string(hide_password=False)


@cache
def postgres_unreachable_reason() -> str | None:
    """``None`` when the test PostgreSQL answers, else why it does not."""
    try:
        with psycopg.connect(_libpq_dsn(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {PG_BASE_URL} is unreachable: {exc}"
    return None


def require_postgres() -> None:
    """Skip the test when PostgreSQL is down; fail it instead when ``CI=true``."""
    reason = postgres_unreachable_reason()
    if reason is None:
        return
    if in_ci():
        pytest.fail(reason + " (CI=true: PostgreSQL tests are required)")
    pytest.skip(reason)


def pg_schema_url(schema: str, base: str = PG_BASE_URL) -> str:
    """``base`` with ``search_path`` set to ``schema`` (libpq ``options`` form)."""
    if not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"bad schema name {schema!r}")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote('-csearch_path=' + schema, safe='')}"


def create_pg_schema(prefix: str = "t") -> str:
    schema = f"{prefix}_{uuid4().hex[:16]}"
    with psycopg.connect(_libpq_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema


def drop_pg_schema(schema: str) -> None:
    if not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"bad schema name {schema!r}")
    with psycopg.connect(_libpq_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def backend(engine_or_url: AsyncEngine | str) -> str:
    """``"sqlite"`` or ``"postgresql"``."""
    if isinstance(engine_or_url, AsyncEngine):
        return engine_or_url.dialect.name
    return make_url(engine_or_url).get_backend_name()


async def bypass_append_only(conn: AsyncConnection) -> None:
    """Let raw SQL on ``conn`` change the events and merkle_nodes tables (for tamper tests only).

    PostgreSQL: ordinary triggers do not fire for ``session_replication_role =
    replica`` (this transaction only). SQLite has no such switch, so the triggers
    are dropped.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
    else:
        await conn.execute(text("DROP TRIGGER IF EXISTS events_no_update"))
        await conn.execute(text("DROP TRIGGER IF EXISTS events_no_delete"))
        await conn.execute(text("DROP TRIGGER IF EXISTS merkle_nodes_no_update"))
        await conn.execute(text("DROP TRIGGER IF EXISTS merkle_nodes_no_delete"))
