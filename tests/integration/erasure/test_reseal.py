"""A log written before sealing: it still reads, and ``reseal`` copies it into a sealed,
equivalent log."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from uuid import uuid4

import sqlalchemy as sa

from domain import events as ev
from domain.serialization import to_data
from events.db import create_engine
from events.migrate import migrate
from events.port import NO_STREAM, Metadata, NewEvent, StreamAppend
from events.reseal import compare, reseal
from events.sql_store import SqlEventStore

NAME = "Ottoline Plaintext"


async def test_an_old_plaintext_log_reads_and_reseals_into_an_equivalent_sealed_log(
    db_url: str, tmp_path: Path
) -> None:
    old_engine = create_engine(db_url)
    await migrate(old_engine)
    old = SqlEventStore(old_engine, sealer=None)  # as written before sealing existed
    pid, mentor = uuid4(), uuid4()
    hired = ev.PersonHired(
        person_id=pid, effective_on=date(2020, 1, 6), name=NAME, email="otto@example.com",
        track="product", level="apm", prior_years=0, manager_id=None, ladder_version=1,
    )  # fmt: skip
    started = {
        "mentorship_id": str(uuid4()), "mentor_id": str(mentor), "mentee_id": str(pid),
        "effective_on": "2021-01-04", "goals": ["Ottoline: negotiation"], "reverse": False,
    }  # fmt: skip
    await old.append(
        f"person-{pid}", [NewEvent("PersonHired", to_data(hired))], NO_STREAM,
        metadata=Metadata(actor_id="hr", idempotency_key="k-1"),
    )  # fmt: skip
    copies = [
        StreamAppend(
            f"person-{w}", [NewEvent("MentorshipStarted", {**started, "person_id": str(w)})]
        )
        for w in (mentor, pid)
    ]
    await old.write(copies, metadata=Metadata(actor_id="hr"))
    reader = SqlEventStore(old_engine)  # a sealing store reads old plaintext as it is
    assert (await reader.read_stream(f"person-{pid}"))[0].data["name"] == NAME

    new_engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'resealed.db'}")
    await migrate(new_engine)
    new = SqlEventStore(new_engine)
    try:
        report = await reseal(reader, new_engine)
        assert (report.events, report.appends) == (3, 2)
        assert await compare(reader, new) is None
        assert (await new.verify()).ok
        async with new_engine.connect() as conn:
            stored = "\n".join((await conn.execute(sa.text("SELECT data FROM events"))).scalars())
        assert NAME not in stored and "negotiation" not in stored
        # The hashes are new: what was signed for the old log does not carry over.
        assert (await new.tree_root())[1] != (await old.tree_root())[1]
    finally:
        for store in (old, reader, new):
            await store.close()
        await old_engine.dispose()
        await new_engine.dispose()
