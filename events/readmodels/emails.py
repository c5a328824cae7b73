"""Who uses an email address, from the people read model (case-insensitive).

``people_with_email`` answers the question for a decision; ``EmailFree`` asks it again
under the append lock (``events.conditions``), so two requests that race to give one
address to two people cannot both pass: the second sees the first's hire.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.checks import email_unused
from events.readmodels import tables
from events.readmodels.queries import fetch

P = tables.people


async def people_with_email(engine: AsyncEngine, email: str) -> set[UUID]:
    """Ids of the people whose email is ``email``, ignoring case."""
    q = sa.select(P.c.person_id).where(sa.func.lower(P.c.email) == email.strip().lower())
    return {UUID(str(r["person_id"])) for r in await fetch(engine, q)}


# The read model answers up to the people projection's checkpoint; the events after it
# (an append not projected in its own transaction, a catch-up still running) are read
# from the log: only the types that can set an email.
_SQLITE_OWNERS = "SELECT person_id FROM rm_people WHERE lower(email) = ?"
_SQLITE_CHECKPOINT = "SELECT position FROM projection_checkpoints WHERE name = 'people'"
_SQLITE_TAIL = (
    "SELECT type, data FROM events WHERE position > ? AND type IN ('PersonHired', 'EventCorrected')"
)
_PG_OWNERS = "SELECT person_id FROM rm_people WHERE lower(email) = $1"
_PG_CHECKPOINT = "SELECT position FROM projection_checkpoints WHERE name = 'people'"
_PG_TAIL = (
    "SELECT type, data FROM events WHERE position > $1 "
    "AND type IN ('PersonHired', 'EventCorrected')"
)


@dataclass(frozen=True, slots=True)
class EmailFree:
    """No one but ``person_id`` has ``address`` (ignoring case), judged under the
    append lock; raises ``EmailAlreadyUsed`` otherwise."""

    address: str
    person_id: UUID

    @property
    def _key(self) -> str:
        return self.address.strip().lower()

    def check_sqlite(self, conn: sqlite3.Connection) -> None:
        owners = {str(r[0]) for r in conn.execute(_SQLITE_OWNERS, (self._key,))}
        checkpoint = conn.execute(_SQLITE_CHECKPOINT).fetchone()
        tail = conn.execute(_SQLITE_TAIL, (checkpoint[0] if checkpoint else 0,))
        self._judge(owners, [(t, orjson.loads(d)) for t, d in tail])

    async def check_postgres(self, conn: Any) -> None:
        owners = {str(r[0]) for r in await conn.fetch(_PG_OWNERS, self._key)}
        checkpoint = await conn.fetchval(_PG_CHECKPOINT)
        tail = await conn.fetch(_PG_TAIL, checkpoint or 0)
        self._judge(owners, [(r[0], _json(r[1])) for r in tail])

    def _judge(self, owners: set[str], tail: list[tuple[str, Any]]) -> None:
        for kind, data in tail:
            if not isinstance(data, dict):
                continue
            if kind == "EventCorrected":
                changes = data.get("changes")
                address = changes.get("email") if isinstance(changes, dict) else None
            else:
                address = data.get("email")
            if isinstance(address, str) and address.strip().lower() == self._key:
                owners.add(str(data.get("person_id")))
        email_unused(self.person_id, self.address, {UUID(o) for o in owners if _is_id(o)})


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _is_id(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True
