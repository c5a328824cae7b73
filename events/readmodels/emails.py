"""Who uses an email address, from the people read model (case-insensitive).

``people_with_email`` answers the question for a decision; ``EmailFree`` asks it again
under the append lock (``events.conditions``), so two requests that race to give one
address to two people cannot both pass: the second sees the first's hire.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import cache
from typing import Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.checks import email_unused
from events.readmodels import tables
from events.readmodels.queries import fetch
from events.sealing import Sealer, is_sealed, subject_of

P = tables.people


@cache
def _with_email() -> sa.Select[Any]:
    """The statement, built once (every hire asks it): the address is bound per call."""
    return sa.select(P.c.person_id).where(sa.func.lower(P.c.email) == sa.bindparam("email"))


async def people_with_email(engine: AsyncEngine, email: str) -> set[UUID]:
    """Ids of the people whose email is ``email``, ignoring case."""
    rows = await fetch(engine, _with_email(), {"email": email.strip().lower()}, point=True)
    return {UUID(str(r["person_id"])) for r in rows}


# The read model answers up to the people projection's checkpoint; the events after it
# (an append not projected in its own transaction, a catch-up still running) are read
# from the log: only the types that can set an email.
_SQLITE_OWNERS = "SELECT person_id FROM rm_people WHERE lower(email) = ?"
_SQLITE_CHECKPOINT = "SELECT position FROM projection_checkpoints WHERE name = 'people'"
_SQLITE_TAIL = (
    "SELECT type, data, event_id FROM events "
    "WHERE position > ? AND type IN ('PersonHired', 'EventCorrected')"
)
_SQLITE_KEY = "SELECT wrapped FROM data_keys WHERE subject = ?"
# On PostgreSQL the owners and the tail come in one round trip (the check runs under the
# append lock): owner rows have no type.
_PG_OWNERS_AND_TAIL = (
    "SELECT NULL::text, person_id::text, NULL::text FROM rm_people WHERE lower(email) = $1 "
    "UNION ALL SELECT type, data, event_id::text FROM events WHERE position > coalesce(("
    "SELECT position FROM projection_checkpoints WHERE name = 'people'), 0) "
    "AND type IN ('PersonHired', 'EventCorrected')"
)
_PG_KEYS = "SELECT subject, wrapped FROM data_keys WHERE subject = ANY($1::text[])"


@dataclass(frozen=True, slots=True)
class EmailFree:
    """No one but ``person_id`` has ``address`` (ignoring case), judged under the
    append lock; raises ``EmailAlreadyUsed`` otherwise."""

    address: str
    person_id: UUID
    sealer: Sealer | None = None
    """Opens addresses sealed in the log's tail (``events.sealing``)."""

    @property
    def _key(self) -> str:
        return self.address.strip().lower()

    def check_sqlite(self, conn: sqlite3.Connection) -> None:
        owners = {str(r[0]) for r in conn.execute(_SQLITE_OWNERS, (self._key,))}
        checkpoint = conn.execute(_SQLITE_CHECKPOINT).fetchone()
        tail = [
            (t, orjson.loads(d), str(UUID(str(e))))
            for t, d, e in conn.execute(_SQLITE_TAIL, (checkpoint[0] if checkpoint else 0,))
        ]
        wrapped: dict[str, bytes | None] = {}
        for subject in _sealed_subjects(tail):
            if not self._wants_key(subject):
                continue
            row = conn.execute(_SQLITE_KEY, (subject,)).fetchone()
            if row is not None:
                wrapped[subject] = None if row[0] is None else bytes(row[0])
        self._judge(owners, tail, wrapped)

    async def check_postgres(self, conn: Any) -> None:
        owners: set[str] = set()
        tail: list[tuple[str, Any, str]] = []
        for kind, value, eid in await conn.fetch(_PG_OWNERS_AND_TAIL, self._key):
            if kind is None:
                owners.add(value)
            else:
                tail.append((kind, _json(value), eid))
        subjects = sorted(s for s in _sealed_subjects(tail) if self._wants_key(s))
        wrapped: dict[str, bytes | None] = {}
        if subjects:
            for r in await conn.fetch(_PG_KEYS, subjects):
                wrapped[r[0]] = None if r[1] is None else bytes(r[1])
        self._judge(owners, tail, wrapped)

    def _wants_key(self, subject: str) -> bool:
        """Whether the stored key of ``subject`` is needed to open its address: not when
        there is no sealer to open with, nor when the sealer holds the key (the hires
        before this one in a group commit)."""
        return self.sealer is not None and not self.sealer.knows(subject)

    def _judge(
        self,
        owners: set[str],
        tail: list[tuple[str, Any, str]],
        wrapped: dict[str, bytes | None],
    ) -> None:
        for kind, data, eid in tail:
            if not isinstance(data, dict):
                continue
            address = _address(kind, data)
            if is_sealed(address):
                path = "changes.email" if kind == "EventCorrected" else "email"
                address = (
                    None
                    if self.sealer is None
                    else self.sealer.open_one(data, address, eid, path, wrapped)
                )
            if isinstance(address, str) and address.strip().lower() == self._key:
                owners.add(str(data.get("person_id")))
        email_unused(self.person_id, self.address, {UUID(o) for o in owners if _is_id(o)})


def _address(kind: str, data: dict[str, Any]) -> Any:
    if kind == "EventCorrected":
        changes = data.get("changes")
        return changes.get("email") if isinstance(changes, dict) else None
    return data.get("email")


def _sealed_subjects(tail: list[tuple[str, Any, str]]) -> set[str]:
    found: set[str] = set()
    for kind, data, _ in tail:
        if isinstance(data, dict) and (subject := subject_of(_address(kind, data))) is not None:
            found.add(subject)
    return found


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _is_id(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True
