"""Bulk onboarding through ``CareerService``: judge a CSV of hires with the domain's rules
(``domain.onboarding``) against what the log and the read models know, then append every
hire in one transaction, or nothing.

The idempotency key is derived from the file's rows, so running the same file again
answers the first import's result and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from uuid import UUID

import sqlalchemy as sa

from domain.onboarding import Plan, Row, RowError, digest, plan_onboarding, read_rows
from domain.state import PersonState
from events.port import NO_STREAM, Metadata, StreamAppend
from events.readmodels import tables
from events.readmodels.emails import EmailFree
from events.readmodels.queries import fetch
from events.service import CareerService, encode, person_stream

P = tables.people


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows: int
    errors: tuple[RowError, ...]
    hired: int
    """People written by this run (0 for a dry run, a refused file or a repeat)."""
    replayed: bool = False
    """The same rows were imported before: nothing was written."""
    position: int | None = None


async def _known_emails(service: CareerService) -> dict[str, UUID]:
    rows = await fetch(service.readmodels, sa.select(P.c.email, P.c.person_id))
    return {str(r["email"]).lower(): UUID(str(r["person_id"])) for r in rows}


async def plan(service: CareerService, rows: Sequence[Row]) -> Plan:
    """Every row judged against what the log and the people read model know now."""
    emails = await _known_emails(service)
    ctx = await service.context()
    named = {r.values.get("manager_email", "").lower() for r in rows} & emails.keys()
    known: dict[UUID, PersonState] = {}
    for email in sorted(named):
        known.update(await service.manager_chain(emails[email], ctx.today))
    return plan_onboarding(rows, ctx, known_emails=emails, known=known)


async def import_people(
    service: CareerService, text: str, *, actor: str, dry_run: bool = False
) -> ImportReport:
    """``import_rows`` of a CSV file's rows (see ``domain.onboarding`` for the columns)."""
    rows, problems = read_rows(text)
    if problems:
        return ImportReport(0, tuple(problems), 0)
    return await import_rows(service, rows, metadata=Metadata(actor_id=actor), dry_run=dry_run)


async def import_rows(
    service: CareerService, rows: Sequence[Row], *, metadata: Metadata, dry_run: bool = False
) -> ImportReport:
    """Judge every row; unless ``dry_run`` or a row is bad, hire everyone in one append.

    ``metadata`` says who asks (its idempotency key is replaced by the rows' digest)."""
    meta = replace(metadata, actor_role="hr", idempotency_key=f"import-people:{digest(rows)}")
    if (done := await service.replayed(meta)) is not None:
        return ImportReport(len(rows), (), 0, replayed=True, position=done.position)
    judged = await plan(service, rows)
    if judged.errors or dry_run or not judged.hires:
        return ImportReport(len(rows), judged.errors, 0)
    appends = [
        StreamAppend(person_stream(h.command.person_id), [encode(e) for e in h.events], NO_STREAM)
        for h in judged.hires
    ]
    # Each address is asked again under the append lock: a hire racing the import for
    # one of its addresses cannot leave it to two people.
    free = [EmailFree(h.command.email, h.command.person_id, service.sealer) for h in judged.hires]
    result = await service.execute_appends(appends, metadata=meta, conditions=free)
    return ImportReport(len(rows), (), len(appends), result.replayed, result.position)
