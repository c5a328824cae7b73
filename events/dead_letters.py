"""Dead letters: what a projection could not apply, recorded instead of stopping the log.

One bad event (a value a read-model column cannot hold, a handler that raises on data
recorded years ago) must not freeze every read model, fail every later mutation and stop
``ladder serve`` from starting. The projector applies a batch under a savepoint; when it
fails, it applies the batch's events one at a time, records each one that fails here
(position, event, projection, error), moves the projection past it and keeps going.
A projection with dead letters is *degraded* (``/readyz``, ``ladder projections``) until
``ladder rebuild`` with fixed code applies them all; a rebuild replaces its projection's
dead letters with the ones it found itself.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.bulk import chunks, column_order, insert_plan, load_missing, write_changes
from events.projections.base import Envelope, Projection, Workspace
from events.readmodels.tables import dead_letters

log = logging.getLogger(__name__)

_MAX_ERROR = 2000
TRANSIENT: tuple[type[BaseException], ...] = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    TimeoutError,
    ConnectionError,
)
"""Errors that say nothing about the event (the database went away, a lock timed out):
they are raised, not recorded, and the batch is retried on the next catch-up."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    projection: str
    position: int | None
    event_id: str | None
    event_type: str | None
    row_key: str | None
    error: str
    recorded_at: datetime


def describe(error: BaseException) -> str:
    """One line naming the error, without the statement's parameters (which may hold
    personal data)."""
    if isinstance(error, sa.exc.StatementError) and error.orig is not None:
        error = error.orig
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text[:_MAX_ERROR]


async def record(
    conn: AsyncConnection,
    projection: str,
    error: BaseException,
    *,
    position: int | None = None,
    event_id: str | None = None,
    event_type: str | None = None,
    row_key: str | None = None,
    pending: bool = False,
) -> None:
    """Record one dead letter in ``conn``'s transaction (and log it)."""
    message = describe(error)
    log.error(
        "projection %s skipped %s at position %s: %s",
        projection,
        event_type or f"row {row_key}",
        position,
        message,
    )
    await conn.execute(
        sa.insert(dead_letters).values(
            projection=projection,
            position=position,
            event_id=event_id,
            event_type=event_type,
            row_key=None if row_key is None else row_key[:200],
            error=message,
            pending=pending,
            recorded_at=datetime.now(UTC),
        )
    )


async def clear_pending(conn: AsyncConnection, names: Sequence[str]) -> None:
    """Forget what an earlier, unfinished rebuild of ``names`` found."""
    await conn.execute(
        sa.delete(dead_letters).where(
            dead_letters.c.projection.in_(names), dead_letters.c.pending.is_(True)
        )
    )


async def promote_pending(conn: AsyncConnection, names: Sequence[str]) -> None:
    """At a rebuild's swap: its dead letters replace the old ones of ``names``."""
    chosen = dead_letters.c.projection.in_(names)
    await conn.execute(sa.delete(dead_letters).where(chosen, dead_letters.c.pending.is_(False)))
    await conn.execute(sa.update(dead_letters).where(chosen).values(pending=False))


async def list_dead_letters(engine: AsyncEngine, limit: int = 1000) -> list[DeadLetter]:
    """Current dead letters, oldest position first."""
    d = dead_letters
    query = (
        sa.select(
            d.c.projection,
            d.c.position,
            d.c.event_id,
            d.c.event_type,
            d.c.row_key,
            d.c.error,
            d.c.recorded_at,
        )
        .where(d.c.pending.is_(False))
        .order_by(d.c.position, d.c.id)
        .limit(limit)
    )
    async with engine.connect() as conn:
        return [DeadLetter(*r) for r in await conn.execute(query)]


async def degraded(engine: AsyncEngine) -> dict[str, int]:
    """Projections with dead letters, and how many each has."""
    d = dead_letters
    query = (
        sa.select(d.c.projection, sa.func.count())
        .where(d.c.pending.is_(False))
        .group_by(d.c.projection)
    )
    async with engine.connect() as conn:
        return {name: int(n) for name, n in await conn.execute(query)}


# --- applying and writing with dead letters ------------------------------------------------


async def apply_each(conn: AsyncConnection, p: Projection, envs: list[Envelope]) -> int:
    """Apply ``envs`` one at a time, each under a savepoint; an event that fails is
    recorded as a dead letter and skipped. Counts every event as applied (the consistency
    check compares that count with the log; dead letters say the rest)."""
    for env in envs:
        try:
            async with conn.begin_nested():
                ws = Workspace(p, complete=False)
                await load_missing(conn, ws, p.table, [env])
                ws.apply(env)
                await write_changes(conn, ws, p.table, delete=True)
        except TRANSIENT:
            raise
        except Exception as error:
            await record(
                conn,
                p.name,
                error,
                position=env.position,
                event_id=env.id_text,
                event_type=env.type,
            )
    return len(envs)


async def pending(
    writer: AsyncEngine,
    conn: AsyncConnection | None,
    p: Projection,
    env: Envelope,
    error: Exception,
) -> None:
    """A rebuild's dead letter (pending until its swap), in ``conn`` or a transaction of
    its own on ``writer``."""
    async with contextlib.AsyncExitStack() as stack:
        target = conn if conn is not None else await stack.enter_async_context(writer.begin())
        await record(
            target,
            p.name,
            error,
            position=env.position,
            event_id=env.id_text,
            event_type=env.type,
            pending=True,
        )


async def write_each(conn: AsyncConnection, ws: Workspace, target: sa.Table) -> None:
    """``write_changes`` inside a rebuild's swap, falling back to a row at a time (a row the
    table cannot hold is recorded as a dead letter) instead of failing the rebuild."""
    keys, inserts = ws.take_changes()
    pk = target.c[ws.projection.pk]
    for chunk in chunks(keys):
        await conn.execute(sa.delete(target).where(pk.in_(chunk)))
    if not inserts:
        return
    sql, tuples = insert_plan(target, inserts, conn.dialect)
    try:
        async with conn.begin_nested():
            for chunk in chunks(tuples, 5000):
                await conn.exec_driver_sql(sql, list(chunk))
    except TRANSIENT:
        raise
    except Exception:
        await insert_each(conn, ws.projection, target, sql, tuples)


async def insert_each(
    conn: AsyncConnection,
    p: Projection,
    target: sa.Table,
    sql: str,
    tuples: Sequence[tuple[object, ...]],
) -> None:
    """Insert rows one at a time under savepoints; a row that fails is a (pending) dead
    letter naming its key and the position it reached."""
    order = column_order(target, conn.dialect)
    key_at = order.index(p.pk)
    position_at = next((order.index(c) for c in ("last_position", "position") if c in order), None)
    for values in tuples:
        try:
            async with conn.begin_nested():
                await conn.exec_driver_sql(sql, [values])
        except TRANSIENT:
            raise
        except Exception as error:
            position = values[position_at] if position_at is not None else None
            await record(
                conn,
                p.name,
                error,
                position=int(str(position)) if position is not None else None,
                row_key=str(values[key_at]),
                pending=True,
            )
