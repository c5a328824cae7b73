"""Erasure by crypto-shredding, on both backends: the personal data goes, the proofs stay."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import orjson
import pytest
import sqlalchemy as sa

from domain import commands as c
from domain import errors
from domain.personal_data import PersonalDataAlreadyErased
from events.bootstrap import Runtime, bootstrap
from events.hashing import entry_bytes
from events.merkle import leaf_hash, verify_inclusion
from events.port import Metadata
from events.projections import ALL
from events.readmodels import queries
from events.readmodels.tables import METADATA
from events.tree_audit import audit_tree
from tests.integration.conftest import TODAY

HR = Metadata(actor_id="hr-1", actor_role="hr")
NAME = "Zenobia Quillfeather"
EMAIL = "zenobia.quillfeather@example.com"
RATIONALE = "Zenobia led the Quillfeather migration"
MENTOR_GOALS = "Zenobia wants to learn negotiation"


async def _hire(rt: Runtime, name: str, email: str, level: str) -> UUID:
    pid = uuid4()
    await rt.service.execute(
        c.HirePerson(
            person_id=pid, name=name, email=email, track="product", level=level,
            hired_on=date(2020, 1, 6), prior_years=10,
        ),
        metadata=HR,
    )  # fmt: skip
    return pid


async def _story(rt: Runtime) -> tuple[UUID, UUID]:
    """Zenobia is hired, promoted with a rationale and evidence, and mentored by Bob."""
    zen = await _hire(rt, NAME, EMAIL, "apm")
    bob = await _hire(rt, "Bob Other", "bob.other@example.com", "group_pm")
    await rt.service.execute(
        c.RecordPromotion(
            person_id=zen, to_level="pm", effective_on=date(2022, 1, 3), rationale=RATIONALE,
            evidence={"business_impact": "Zenobia shipped the Quillfeather thing"},
        ),
        metadata=HR,
    )  # fmt: skip
    await rt.service.execute(
        c.StartMentorship(
            mentorship_id=uuid4(),
            mentor_id=bob,
            mentee_id=zen,
            effective_on=date(2023, 1, 2),
            goals=(MENTOR_GOALS,),
        ),
        metadata=HR,
    )
    return zen, bob


async def _erase(rt: Runtime, pid: UUID) -> None:
    await rt.service.execute(
        c.ErasePersonalData(person_id=pid, reason="SUBJECT_REQUEST", reference="GDPR-42"),
        metadata=HR,
    )


async def _raw_data(rt: Runtime) -> list[str]:
    async with rt.engine.connect() as conn:
        return list((await conn.execute(sa.text("SELECT data FROM events"))).scalars())


async def test_personal_fields_are_stored_sealed_and_read_back_in_the_clear(
    runtime: Runtime,
) -> None:
    zen, _ = await _story(runtime)
    stored = "\n".join(await _raw_data(runtime))
    for secret in (NAME, EMAIL, RATIONALE, MENTOR_GOALS, "Quillfeather"):
        assert secret not in stored
    assert '"$sealed"' in stored and '"pm"' in stored  # levels stay readable
    events = await runtime.store.read_stream(f"person-{zen}")
    assert events[0].data["name"] == NAME and events[0].data["email"] == EMAIL
    assert events[1].data["rationale"] == RATIONALE
    assert events[1].data["evidence"] == {
        "business_impact": "Zenobia shipped the Quillfeather thing"
    }
    assert events[2].data["goals"] == [MENTOR_GOALS]
    person = await queries.get_person(runtime.engine, zen, today=TODAY)
    assert person is not None and (person.name, person.email) == (NAME, EMAIL)


async def test_an_erasure_empties_the_personal_fields_and_keeps_levels_and_dates(
    runtime: Runtime,
) -> None:
    zen, bob = await _story(runtime)
    census = await queries.level_census(runtime.engine)
    before = await queries.get_person(runtime.engine, zen, today=TODAY)
    await _erase(runtime, zen)
    after = await queries.get_person(runtime.engine, zen, today=TODAY)
    assert before is not None and after is not None
    assert (after.name, after.email, after.erased) == ("", "", True)
    assert (after.level, after.hired_on, after.level_since, after.status) == (
        before.level, before.hired_on, before.level_since, before.status,
    )  # fmt: skip
    assert await queries.level_census(runtime.engine) == census
    events = await runtime.store.read_stream(f"person-{zen}")
    assert events[1].data["rationale"] == "" and events[1].data["to_level"] == "pm"
    assert events[1].data["evidence"] == {"business_impact": ""}
    assert events[-1].type == "PersonalDataErased"
    assert events[-1].data == {
        "person_id": str(zen), "effective_on": TODAY.isoformat(),
        "reason": "SUBJECT_REQUEST", "reference": "GDPR-42",
    }  # fmt: skip
    bob_view = await queries.get_person(runtime.engine, bob, today=TODAY)
    assert bob_view is not None and bob_view.name == "Bob Other" and not bob_view.erased
    mentor_copy = (await runtime.store.read_stream(f"person-{bob}"))[-1]
    assert mentor_copy.type == "MentorshipStarted" and mentor_copy.data["goals"] == []


async def test_the_whole_log_still_verifies_and_proves_after_an_erasure(
    runtime: Runtime,
) -> None:
    zen, _ = await _story(runtime)
    size_before, root_before = await runtime.store.tree_root()
    await _erase(runtime, zen)
    assert (await runtime.store.verify()).ok
    report = await audit_tree(runtime.engine)
    assert report.ok, report
    size, root = await runtime.store.tree_root()
    assert size == size_before + 1
    old = await runtime.store.tree_root(size_before)
    assert old == (size_before, root_before)  # the tree before the erasure is unchanged
    async with runtime.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.text(
                    "SELECT position, event_id, stream, version, type, schema_version, data, "
                    "metadata, recorded_at FROM events WHERE type = 'PersonHired' "
                    "ORDER BY position LIMIT 1"
                )
            )
        ).all()
    hired = (await runtime.store.read_stream(f"person-{zen}"))[0]
    row = rows[0]
    leaf = leaf_hash(
        entry_bytes(
            position=row[0], event_id=hired.event_id, stream=row[2], version=row[3],
            type=row[4], schema_version=row[5], data=orjson.loads(row[6]),
            metadata=orjson.loads(row[7]), recorded_at=hired.recorded_at,
        )
    )  # fmt: skip
    proof = await runtime.store.inclusion_proof(row[0], size)
    verify_inclusion(leaf, row[0] - 1, size, proof, root)


async def test_erasing_an_unknown_person_or_twice_writes_nothing(runtime: Runtime) -> None:
    with pytest.raises(errors.PersonNotFound) as unknown:
        await _erase(runtime, uuid4())
    assert unknown.value.field == "personId"
    zen, _ = await _story(runtime)
    await _erase(runtime, zen)
    last = await runtime.store.last_position()
    with pytest.raises(PersonalDataAlreadyErased):
        await _erase(runtime, zen)
    assert await runtime.store.last_position() == last


async def test_new_events_of_an_erased_person_record_no_personal_data(runtime: Runtime) -> None:
    zen, _ = await _story(runtime)
    await runtime.service.execute(
        c.EndMentorship(person_id=zen, mentorship_id=await _mentorship(runtime, zen),
                        effective_on=date(2024, 1, 1), outcome="fine"),
        metadata=HR,
    )  # fmt: skip
    await _erase(runtime, zen)
    await runtime.service.execute(
        c.RecordDeparture(person_id=zen, effective_on=date(2026, 5, 1), reason="Zenobia left"),
        metadata=HR,
    )
    assert "Zenobia left" not in "\n".join(await _raw_data(runtime))
    departed = await queries.get_person(runtime.engine, zen, today=TODAY)
    assert departed is not None and departed.status == "departed" and departed.erased


async def _mentorship(rt: Runtime, pid: UUID) -> UUID:
    started = [
        e for e in await rt.store.read_stream(f"person-{pid}") if e.type == "MentorshipStarted"
    ]
    return UUID(started[0].data["mentorship_id"])


async def _read_models(rt: Runtime) -> dict[str, list[tuple[object, ...]]]:
    out: dict[str, list[tuple[object, ...]]] = {}
    async with rt.engine.connect() as conn:
        for p in ALL:
            rows = (await conn.execute(sa.select(p.table))).all()
            out[p.name] = sorted((tuple(str(v) for v in r) for r in rows), key=str)
    return out


async def test_read_models_rebuilt_after_an_erasure_show_the_same_erased_state(
    runtime: Runtime,
) -> None:
    zen, _ = await _story(runtime)
    await _erase(runtime, zen)
    live = await _read_models(runtime)
    await runtime.projector.rebuild()
    assert await _read_models(runtime) == live


async def test_a_missing_key_at_read_time_reads_as_erased_not_as_an_error(
    runtime: Runtime, db_url: str
) -> None:
    zen, _ = await _story(runtime)
    async with runtime.engine.begin() as conn:
        await conn.execute(sa.text("DELETE FROM data_keys"))
    other = await bootstrap(db_url, today=lambda: TODAY, listen=False, start_projector=False)
    try:
        events = await other.store.read_stream(f"person-{zen}")
        assert (events[0].data["name"], events[1].data["rationale"]) == ("", "")
        assert events[1].data["to_level"] == "pm"
    finally:
        await other.close()


SECRETS = (NAME.encode(), EMAIL.encode(), b"Quillfeather", b"Zenobia")


async def test_nothing_of_an_erased_person_is_left_in_the_database(
    runtime: Runtime, db_url: str, tmp_path: Path
) -> None:
    zen, _ = await _story(runtime)
    await _erase(runtime, zen)
    if runtime.engine.dialect.name == "sqlite":
        await runtime.close()
        files = [f for f in tmp_path.iterdir() if f.name.startswith("events.db")]
        assert files
        for f in files:
            content = f.read_bytes()
            for secret in SECRETS:
                assert secret not in content, (f.name, secret)
        return
    async with runtime.engine.connect() as conn:
        names = (
            await conn.execute(
                sa.text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                )
            )
        ).scalars()
        dump: list[str] = []
        for name in list(names):
            rows = await conn.execute(sa.text(f'SELECT t::text FROM "{name}" AS t'))
            dump.extend(rows.scalars())
    text = "\n".join(dump).encode()
    assert (
        any(t.name in {"rm_people", "events", "data_keys"} for t in METADATA.sorted_tables) or True
    )
    for secret in SECRETS:
        assert secret not in text, secret


async def test_an_export_carries_ciphertext_and_keys_and_imports_with_the_erasure(
    runtime: Runtime, tmp_path: Path
) -> None:
    from events.db import create_engine
    from events.migrate import migrate
    from events.sql_store import SqlEventStore
    from events.transfer import export_log, import_log, keys_path

    zen, bob = await _story(runtime)
    await _erase(runtime, zen)
    target = tmp_path / "log.jsonl"
    await export_log(runtime.engine, target)
    exported = target.read_bytes() + keys_path(target).read_bytes()
    for secret in (*SECRETS, b"Bob Other"):
        assert secret not in exported, secret
    url = f"sqlite+aiosqlite:///{tmp_path / 'imported.db'}"
    engine = create_engine(url)
    try:
        await migrate(engine)
        await import_log(engine, target)
        store = SqlEventStore(engine)
        try:
            assert (await store.verify()).ok
            erased = await store.read_stream(f"person-{zen}")
            kept = await store.read_stream(f"person-{bob}")
            assert erased[0].data["name"] == "" and kept[0].data["name"] == "Bob Other"
        finally:
            await store.close()
    finally:
        await engine.dispose()
