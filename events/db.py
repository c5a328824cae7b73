"""Engines for the log: SQLite (a WAL file) and PostgreSQL (asyncpg).

Nothing here runs at import time. ``create_engine`` returns an ``AsyncEngine`` whose
connections are set up for durability:

* SQLite: ``journal_mode=WAL``, ``synchronous=FULL``, ``busy_timeout``; the driver's own
  transaction handling is switched off and SQLAlchemy's ``begin`` event emits ``BEGIN``
  (reads) or ``BEGIN IMMEDIATE`` (writes, see ``write_engine``). WAL readers never
  block on the writer.
* PostgreSQL: ``synchronous_commit=on``; a schema can be chosen per engine with the
  libpq-style ``?options=-csearch_path%3Dmyschema`` URL parameter or ``schema=``.
"""

from __future__ import annotations

import shlex
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "events_sqlite_begin"

_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite", "sqlite+aiosqlite"}
_PG_DRIVERS = {
    "postgres",
    "postgresql",
    "postgresql+asyncpg",
    "postgresql+psycopg",
    "postgresql+psycopg2",
}


def normalize_url(url: str | URL) -> str:
    """Map ``sqlite://`` and ``postgresql://`` URLs to their async drivers."""
    try:
        u = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise ValueError(f"bad database URL: {exc}") from exc
    if u.drivername in _SQLITE_DRIVERS:
        u = u.set(drivername="sqlite+aiosqlite")
    elif u.drivername in _PG_DRIVERS:
        u = u.set(drivername="postgresql+asyncpg")
    else:
        raise ValueError(f"unsupported database URL scheme: {u.drivername}")
    return u.render_as_string(hide_password=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def write_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, with transactions that take SQLite's write lock at ``BEGIN``.

    On PostgreSQL it is ``engine`` itself; the store serializes appends with an
    advisory lock instead.
    """
    if is_sqlite(engine):
        return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
    return engine


def create_engine(url: str | URL, *, schema: str | None = None, **kwargs: Any) -> AsyncEngine:
    """Build an ``AsyncEngine`` for the log's database (no connection is opened yet)."""
    u = make_url(normalize_url(url))
    if u.get_backend_name() == "sqlite":
        return _sqlite_engine(u, **kwargs)
    return _postgres_engine(u, schema=schema, **kwargs)


def _sqlite_engine(u: URL, **kwargs: Any) -> AsyncEngine:
    if u.database in (None, "", ":memory:"):
        raise ValueError("the SQLite database URL needs a file (WAL does not apply to :memory:)")
    engine = create_async_engine(u, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy, not the sqlite3 module, decides when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # Deleted and overwritten bytes are zeroed, not left in free pages (erasure).
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")

    return engine


PG_POOL_SIZE = 20


def _postgres_engine(u: URL, *, schema: str | None, **kwargs: Any) -> AsyncEngine:
    settings: dict[str, str] = {"synchronous_commit": "on"}
    options = u.query.get("options")
    if options is not None:
        settings.update(_parse_pg_options(options if isinstance(options, str) else options[0]))
        u = u.difference_update_query(["options"])
    if schema is not None:
        settings["search_path"] = schema
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args["server_settings"] = {**settings, **connect_args.get("server_settings", {})}
    # Connections are opened on demand and kept: under load a command holds up to two
    # (its stream and its ladders, read concurrently) and the appender one. With the
    # default five, the overflow was opened and closed again on nearly every command.
    kwargs.setdefault("pool_size", PG_POOL_SIZE)
    engine = create_async_engine(u, connect_args=connect_args, **kwargs)
    if not u.query and set(connect_args) == {"server_settings"}:
        _pg_connect[engine] = {
            "host": u.host,
            "port": u.port,
            "user": u.username,
            "password": u.password,
            "database": u.database,
            "server_settings": dict(connect_args["server_settings"]),
        }
    return engine


_pg_connect: WeakKeyDictionary[AsyncEngine, dict[str, Any]] = WeakKeyDictionary()


def pg_connect_kwargs(engine: AsyncEngine) -> dict[str, Any] | None:
    """``asyncpg.connect`` arguments that open a connection like the engine's own (its
    host, database and server settings); ``None`` for an engine not made here or whose
    URL carries more than ``events.db`` knows how to pass on."""
    return _pg_connect.get(engine)


def _parse_pg_options(options: str) -> dict[str, str]:
    """Parse libpq ``options`` (``-c name=value`` pairs) into server settings."""
    settings: dict[str, str] = {}
    tokens = shlex.split(options)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "-c" and i + 1 < len(tokens):
            tok, i = tokens[i + 1], i + 1
        elif tok.startswith(("-c", "--")):
            tok = tok[2:]
        else:
            raise ValueError(f"unsupported PostgreSQL option: {tok}")
        name, sep, value = tok.partition("=")
        if not sep:
            raise ValueError(f"PostgreSQL option without a value: {tok}")
        settings[name.replace("-", "_")] = value
        i += 1
    return settings
