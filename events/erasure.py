"""What follows a recorded ``PersonalDataErased``: the key destroyed, nothing left behind.

``CareerService`` records the erasure event (it holds no personal data); this module then

1. destroys the person's data key (``Sealer.erase``: a tombstone row, so nothing personal
   is sealed for them again) -- their sealed fields now read empty everywhere, in every
   process (a process that reads the erasure event forgets the key it cached);
2. rebuilds the read models from the log (``Projector.rebuild``): the rebuilt tables are
   made from events whose personal fields no longer open, and the old tables, the only
   place the plaintext was copied to, are dropped (on SQLite with ``secure_delete`` on,
   their pages are zeroed; on PostgreSQL their files are removed);
3. compacts what still holds old bytes: SQLite's WAL is checkpointed and truncated; on
   PostgreSQL ``data_keys`` is rewritten (``VACUUM FULL``), so the destroyed key leaves
   no dead tuple.

The event is appended before the key is destroyed, not in one transaction with it: a
crash in between leaves the key, and asking for the erasure again (answered
``PERSONAL_DATA_ALREADY_ERASED``) finishes the job, since this runs then too.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from events.projector import Projector
from events.readmodels import tables
from events.sql_store import SqlEventStore

log = logging.getLogger(__name__)


class Eraser:
    """``CareerService.on_erased``: destroy the key, scrub the read models, compact."""

    def __init__(self, store: SqlEventStore, projector: Projector) -> None:
        self.store = store
        self.projector = projector

    async def __call__(self, person_id: UUID) -> None:
        sealer = self.store.sealer
        destroyed = sealer is not None and await sealer.erase(str(person_id))
        if destroyed or await holds_personal_data(self.store.engine, person_id):
            await self.projector.rebuild()
        await compact(self.store.engine)
        log.info("personal data of %s erased (key destroyed now: %s)", person_id, destroyed)


async def holds_personal_data(engine: AsyncEngine, person_id: UUID) -> bool:
    """Whether the people read model still shows the person's name or email."""
    P = tables.people
    async with engine.connect() as conn:
        found = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(P)
            .where(P.c.person_id == str(person_id), (P.c.name != "") | (P.c.email != ""))
        )
    return bool(found)


async def compact(engine: AsyncEngine) -> None:
    """Leave no old copy of erased bytes where the database keeps them for a while."""
    async with engine.connect() as conn:
        raw: Any = (await conn.get_raw_connection()).driver_connection
        # Through the driver, outside any transaction (VACUUM cannot run in one, and a
        # checkpoint inside one could not pass its own snapshot).
        if engine.dialect.name == "sqlite":
            cursor = await raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            await cursor.close()
        else:
            await raw.execute("VACUUM FULL data_keys")
