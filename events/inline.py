"""Read your writes in the append's own transaction (SQLite).

The store's SQLite writer thread holds the log's write lock from ``BEGIN IMMEDIATE`` to
``COMMIT``. When every projection has applied the log up to just before this append (the
usual case: the last append was projected the same way), :class:`InlineProjector` applies
the append's events to the read models right there, from memory, and moves the
checkpoints, before the one ``COMMIT``: one transaction and one fsync per command instead
of two, and nothing read back from the log.

It is an optimisation with a safe way out: anything unusual (a projection behind or being
rebuilt, a table missing, a handler or a write that fails) rolls back to a savepoint and
returns False. The append still commits, and the projector's ordinary catch-up then
applies the events (recording a dead letter if one really cannot be applied).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from events.bulk import chunks, row_inserter
from events.port import RecordedEvent
from events.projections.base import Envelope, Projection, Row, Workspace
from events.readmodels.tables import Json
from events.sqlite_io import sqlite_text

log = logging.getLogger(__name__)

_CHECKPOINTS = "SELECT name, version, position, applied_count FROM projection_checkpoints"
_MOVE = (
    "UPDATE projection_checkpoints SET position = ?, applied_count = ?, updated_at = ? "
    "WHERE name = ?"
)
Processor = Callable[[Any], Any]


class _Table:
    """One read-model table's statements and value conversions for raw ``sqlite3``."""

    def __init__(self, table: sa.Table, dialect: Dialect) -> None:
        self.table = table
        self.columns = [c.name for c in table.columns]
        names = ", ".join(f'"{c}"' for c in self.columns)
        # Names come from the table definitions, values are always bound.
        self.select = f'SELECT {names} FROM "{table.name}" WHERE "{{column}}" IN ({{marks}})'  # noqa: S608
        self.pk = table.primary_key.columns[0].name
        self.delete = f'DELETE FROM "{table.name}" WHERE "{self.pk}" IN ({{marks}})'  # noqa: S608
        self.results: list[Processor | None] = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in table.columns
        ]
        self.insert, self.row = row_inserter(table, dialect)

    def load(self, conn: sqlite3.Connection, column: str, values: Sequence[object]) -> list[Row]:
        sql = self.select.format(column=column, marks=", ".join("?" * len(values)))
        rows: list[Row] = []
        for raw in conn.execute(sql, list(values)):
            rows.append(
                {
                    name: (value if proc is None or value is None else proc(value))
                    for name, proc, value in zip(self.columns, self.results, raw, strict=True)
                }
            )
        return rows


class InlineProjector:
    """Applies an append's events to every projection inside the append's transaction."""

    def __init__(self, projections: Sequence[Projection], dialect: Dialect) -> None:
        self.projections = tuple(projections)
        self.dialect = dialect
        self._tables = {p.name: _Table(p.table, dialect) for p in self.projections}

    def __call__(self, conn: sqlite3.Connection, recorded: Sequence[RecordedEvent]) -> bool:
        """Project ``recorded`` (the append's events, in order) in ``conn``'s open
        transaction; False (and nothing written) when it could not."""
        if not recorded:
            return False
        try:
            stored = {r[0]: r for r in conn.execute(_CHECKPOINTS)}
        except sqlite3.Error:  # the read models were never created on this database
            return False
        before = recorded[0].position - 1
        for p in self.projections:
            checkpoint = stored.get(p.name)
            if checkpoint is None or checkpoint[1] != p.version or checkpoint[2] != before:
                return False
        conn.execute("SAVEPOINT inline_projection")
        try:
            self._apply(conn, recorded, stored)
        except Exception:
            conn.execute("ROLLBACK TO inline_projection")
            conn.execute("RELEASE inline_projection")
            log.warning("inline projection failed; the catch-up applies it", exc_info=True)
            return False
        conn.execute("RELEASE inline_projection")
        return True

    def _apply(
        self,
        conn: sqlite3.Connection,
        recorded: Sequence[RecordedEvent],
        stored: dict[str, tuple[Any, ...]],
    ) -> None:
        envelopes = [Envelope.of(r) for r in recorded]
        end = recorded[-1].position
        now = sqlite_text(datetime.now(UTC))
        moves: list[tuple[object, ...]] = []
        for p in self.projections:
            envs = [e for e in envelopes if p.handles(e.type)]
            if envs:
                ws = Workspace(p, complete=False)
                table = self._tables[p.name]
                wanted = ws.missing(envs)
                rows: list[Row] = []
                for column, values in wanted.items():
                    for chunk in chunks(list(values)):
                        rows.extend(table.load(conn, column, chunk))
                ws.load(wanted, rows)
                for env in envs:
                    ws.apply(env)
                keys, inserts = ws.take_changes()
                for chunk in chunks(keys):
                    conn.execute(table.delete.format(marks=", ".join("?" * len(chunk))), chunk)
                if inserts:
                    conn.executemany(table.insert, map(table.row, inserts))
            moves.append((end, stored[p.name][3] + len(envs), now, p.name))
        conn.executemany(_MOVE, moves)


_CHECKPOINTS_PG = (
    "SELECT name, version, position, applied_count FROM projection_checkpoints "
    "ORDER BY name FOR UPDATE"
)
# A catch-up holds the checkpoint rows for a few milliseconds (one in this process, after
# an append it could not project here, is the usual one): wait that long rather than
# leave this append to a catch-up too, but not for a long catch-up in another process.
CHECKPOINT_WAIT_MS = 250
_SAVEPOINT_PG = f"SAVEPOINT inline_projection; SET LOCAL lock_timeout = '{CHECKPOINT_WAIT_MS}ms'"
_MOVE_PG = (
    "UPDATE projection_checkpoints AS c SET position = $1, "
    "applied_count = c.applied_count + v.n, updated_at = $2 "
    "FROM unnest($3::text[], $4::bigint[]) AS v(name, n) WHERE c.name = v.name"
)


class _PgTable:
    """One read-model table's statements for raw ``asyncpg`` (values come back as Python
    types already, except the JSON kept as text)."""

    def __init__(self, table: sa.Table, dialect: Dialect) -> None:
        self.insert, self.row = row_inserter(table, dialect)
        self.columns = [c.name for c in table.columns]
        names = ", ".join(f'"{c}"' for c in self.columns)
        self.pk = table.primary_key.columns[0].name
        # Names come from the table definitions, values are always bound.
        self.select = f'SELECT {names} FROM "{table.name}" WHERE "{{column}}" = ANY($1)'  # noqa: S608
        self.delete = f'DELETE FROM "{table.name}" WHERE "{self.pk}" = ANY($1)'  # noqa: S608
        self.json = {c.name for c in table.columns if isinstance(c.type, Json)}

    async def load(self, conn: Any, column: str, values: Sequence[object]) -> list[Row]:
        rows: list[Row] = []
        for record in await conn.fetch(self.select.format(column=column), list(values)):
            row = dict(record)
            for name in self.json:
                if row[name] is not None:
                    row[name] = orjson.loads(row[name])
            rows.append(row)
        return rows


class PgInlineProjector:
    """``InlineProjector`` on PostgreSQL: the append's events applied to the read models on
    the append's own asyncpg connection, before its ``COMMIT``, under a savepoint. The
    checkpoint rows are locked waiting at most ``CHECKPOINT_WAIT_MS``: a catch-up holding
    them longer (another process far behind) leaves the events to the catch-up instead."""

    def __init__(self, projections: Sequence[Projection], dialect: Dialect) -> None:
        self.projections = tuple(sorted(projections, key=lambda p: p.name))
        self.dialect = dialect
        self._tables = {p.name: _PgTable(p.table, dialect) for p in self.projections}

    async def __call__(self, conn: Any, recorded: Sequence[RecordedEvent]) -> bool:
        if not recorded:
            return False
        await conn.execute(_SAVEPOINT_PG)
        try:
            stored = {r[0]: tuple(r) for r in await conn.fetch(_CHECKPOINTS_PG)}
            before = recorded[0].position - 1
            for p in self.projections:
                checkpoint = stored.get(p.name)
                if checkpoint is None or checkpoint[1] != p.version or checkpoint[2] != before:
                    raise _Behind
            await self._apply(conn, recorded)
        except Exception as exc:
            await conn.execute(
                "ROLLBACK TO SAVEPOINT inline_projection; RELEASE SAVEPOINT inline_projection"
            )
            if not isinstance(
                exc, _Behind | asyncpg.LockNotAvailableError | asyncpg.UndefinedTableError
            ):
                log.warning("inline projection failed; the catch-up applies it", exc_info=True)
            return False
        # Not released: the append's ``COMMIT``, next, commits it (one round trip fewer).
        return True

    async def _apply(self, conn: Any, recorded: Sequence[RecordedEvent]) -> None:
        envelopes = [Envelope.of(r) for r in recorded]
        end = recorded[-1].position
        counts: list[int] = []
        for p in self.projections:
            envs = [e for e in envelopes if p.handles(e.type)]
            counts.append(len(envs))
            if envs:
                ws = Workspace(p, complete=False)
                table = self._tables[p.name]
                wanted = ws.missing(envs)
                rows: list[Row] = []
                for column, values in wanted.items():
                    rows.extend(await table.load(conn, column, list(values)))
                ws.load(wanted, rows)
                for env in envs:
                    ws.apply(env)
                keys, inserts = ws.take_changes()
                if keys:
                    await conn.execute(table.delete, keys)
                if inserts:
                    await conn.executemany(table.insert, [table.row(r) for r in inserts])
        names = [p.name for p in self.projections]
        await conn.execute(_MOVE_PG, end, datetime.now(UTC), names, counts)


class _Behind(Exception):
    """A projection is not exactly at the append's start: leave it to the catch-up."""
