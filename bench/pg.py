"""PostgreSQL schemas of their own for the benchmarks, through asyncpg (a runtime
dependency; ``bench/`` never imports ``tests/``). The server is ``BENCH_POSTGRES_URL``,
else ``TEST_POSTGRES_URL``, else the local test database."""

from __future__ import annotations

import asyncio
import os
import re
from urllib.parse import quote
from uuid import uuid4

import asyncpg

PG_BASE_URL = os.environ.get(
    "BENCH_POSTGRES_URL", os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
)
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def pg_schema_url(schema: str, base: str = PG_BASE_URL) -> str:
    """``base`` with ``search_path`` set to ``schema`` (libpq ``options`` form)."""
    _check(schema)
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote('-csearch_path=' + schema, safe='')}"


async def create_schema(prefix: str = "bench") -> str:
    """A new empty schema named ``<prefix>_<random>``."""
    schema = f"{prefix}_{uuid4().hex[:16]}"
    _check(schema)
    conn = await asyncpg.connect(PG_BASE_URL)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()
    return schema


async def drop_schema(schema: str) -> None:
    _check(schema)
    conn = await asyncpg.connect(PG_BASE_URL)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def create_pg_schema(prefix: str = "bench") -> str:
    """``create_schema`` for code outside an event loop."""
    return asyncio.run(create_schema(prefix))


def drop_pg_schema(schema: str) -> None:
    """``drop_schema`` for code outside an event loop."""
    asyncio.run(drop_schema(schema))


def _check(schema: str) -> None:
    if not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"bad schema name {schema!r}")
