"""The stored form of sealed personal data (``events.sealing``, format v2): one ciphertext
per event and subject, bound to its event; a process's first read fetches the keys."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import orjson
import sqlalchemy as sa

from domain import commands as c
from events.bootstrap import Runtime
from events.port import Metadata

HR = Metadata(actor_id="hr-1", actor_role="hr")
RATIONALE = "Ysolde led the Brackenridge migration"


@dataclass
class Stored:
    type: str
    data: dict[str, Any]
    event_id: UUID


async def _promoted(rt: Runtime) -> UUID:
    pid = uuid4()
    await rt.service.execute(
        c.HirePerson(
            person_id=pid, name="Ysolde Brackenridge", email="ysolde@example.com",
            track="product", level="apm", hired_on=date(2020, 1, 6), prior_years=10,
        ),
        metadata=HR,
    )  # fmt: skip
    await rt.service.execute(
        c.RecordPromotion(
            person_id=pid, to_level="pm", effective_on=date(2022, 1, 3), rationale=RATIONALE,
            evidence={"business_impact": "shipped", "ux_design": "designed"},
        ),
        metadata=HR,
    )  # fmt: skip
    return pid


async def _stored(rt: Runtime) -> list[Stored]:
    """The hire and the promotion, as stored."""
    async with rt.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT type, data, event_id FROM events ORDER BY position")
        )
        out = []
        for t, d, e in rows:
            data = d if isinstance(d, dict) else orjson.loads(d)
            if t in ("PersonHired", "PromotionRecorded"):
                out.append(Stored(t, data, UUID(str(e))))
        return out


async def test_each_event_holds_one_ciphertext_per_subject_and_markers_in_place(
    runtime: Runtime,
) -> None:
    pid = await _promoted(runtime)
    hire, promotion = await _stored(runtime)
    assert list(promotion.data["$sealed"]) == [str(pid)]
    assert promotion.data["rationale"] == {"$sealed": f"v2:{pid}:s"}
    assert set(promotion.data["evidence"]) == {"business_impact", "ux_design"}  # keys readable
    assert promotion.data["evidence"]["ux_design"] == {"$sealed": f"v2:{pid}:s"}
    assert promotion.data["to_level"] == "pm"
    assert list(hire.data["$sealed"]) == [str(pid)] and hire.data["email"]["$sealed"].startswith(
        "v2:"
    )


async def test_a_ciphertext_moved_to_another_event_does_not_open(runtime: Runtime) -> None:
    await _promoted(runtime)
    hire, promotion = await _stored(runtime)
    assert runtime.store.sealer is not None
    moved = Stored(promotion.type, orjson.loads(orjson.dumps(promotion.data)), hire.event_id)
    runtime.store.sealer.open_cached([moved, promotion])
    assert moved.data["rationale"] == "" and moved.data["evidence"]["ux_design"] == ""
    assert "$sealed" not in moved.data
    assert promotion.data["rationale"] == RATIONALE
    assert promotion.data["evidence"] == {"business_impact": "shipped", "ux_design": "designed"}


async def test_a_process_first_read_fetches_the_keys_and_opens_every_field(
    runtime: Runtime,
) -> None:
    pid = await _promoted(runtime)
    assert runtime.store.sealer is not None
    runtime.store.sealer.forget()
    events = await runtime.store.read_all(0, 100)
    person = [e for e in events if e.data.get("person_id") == str(pid)]
    assert person[0].data["name"] == "Ysolde Brackenridge"
    assert person[1].data["rationale"] == RATIONALE
    assert person[1].data["evidence"]["ux_design"] == "designed"


async def test_a_field_sealed_on_its_own_in_format_v1_still_opens(runtime: Runtime) -> None:
    pid = await _promoted(runtime)
    sealer = runtime.store.sealer
    assert sealer is not None
    key = sealer._keys[str(pid)]
    assert key is not None
    event_id = uuid4()
    nonce = os.urandom(12)
    sealed = key.encrypt(nonce, orjson.dumps("old text"), f"{event_id}:reason".encode())
    v1 = f"v1:{pid}:s:{base64.b64encode(nonce + sealed).decode()}"
    old = Stored("DemotionRecorded", {"person_id": str(pid), "reason": {"$sealed": v1}}, event_id)
    sealer.open_cached([old])
    assert old.data["reason"] == "old text"
    again = Stored("DemotionRecorded", {"person_id": str(pid), "reason": {"$sealed": v1}}, event_id)
    sealer.forget()  # a fresh process: the key is fetched first
    await sealer.open([again])
    assert again.data["reason"] == "old text"
