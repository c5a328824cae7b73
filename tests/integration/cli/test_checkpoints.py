"""Signed checkpoints against an attacker who owns the database.

Each attack runs raw SQL behind the store (append-only triggers bypassed), then re-forges
everything the database holds: every stream's hash chain and the whole Merkle tree. The
per-stream chain and the tree then agree with the tampered events; only a checkpoint
signed before the attack, kept outside the database, can tell.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from itertools import pairwise
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from events.hashing import canonical, chain_hash
from events.schema import events_table as T
from events.schema import idempotency_table as K
from events.tree import backfill
from tests.integration.cli.helpers import Ran, ladder, on_db, rows, with_db
from tests.support import bypass_append_only

Attack = Callable[[AsyncConnection], Awaitable[None]]


async def _reforge(conn: AsyncConnection) -> None:
    """Recompute every chain, rebuild the Merkle tree and re-point the idempotency records
    from the events as they are now: everything the database holds agrees with them."""
    result = await conn.execute(sa.select(T).order_by(T.c.stream, T.c.version))
    prev: dict[str, str | None] = {}
    for r in result.all():
        digest = chain_hash(
            prev.get(r.stream),
            canonical(
                stream=r.stream,
                version=r.version,
                type=r.type,
                schema_version=r.schema_version,
                data=orjson.loads(r.data),
                metadata=orjson.loads(r.metadata),
                recorded_at=r.recorded_at,
            ),
        )
        await conn.execute(
            T.update()
            .where(T.c.position == r.position)
            .values(hash=digest, prev_hash=prev.get(r.stream))
        )
        prev[r.stream] = digest
    await conn.execute(sa.text("DELETE FROM merkle_nodes"))
    await conn.run_sync(backfill)
    # And the idempotency records, re-pointed at wherever their events now are.
    keys: dict[str, list[int]] = {}
    at: dict[str, object] = {}
    for r in (await conn.execute(sa.select(T).order_by(T.c.position))).all():
        key = orjson.loads(r.metadata).get("idempotency_key")
        if isinstance(key, str):
            keys.setdefault(key, []).append(r.position)
            at.setdefault(key, r.recorded_at)
    await conn.execute(sa.delete(K))
    if keys:
        await conn.execute(
            K.insert(),
            [{"key": k, "positions": orjson.dumps(p).decode(), "recorded_at": at[k]}
             for k, p in keys.items()],
        )  # fmt: skip


def _attack(url: str, attack: Attack, *, reforge: bool = True) -> None:
    async def job(conn: AsyncConnection) -> None:
        await bypass_append_only(conn)
        await attack(conn)
        if reforge:
            await _reforge(conn)

    on_db(url, job, write=True)


async def _sql(conn: AsyncConnection, statement: str, **params: object) -> None:
    await conn.execute(sa.text(statement), params)


async def _last(conn: AsyncConnection) -> int:
    return int(await conn.scalar(sa.text("SELECT max(position) FROM events")) or 0)


async def _close_gap(conn: AsyncConnection, after: int, by: int = 1) -> None:
    """Renumber positions above ``after`` down by ``by`` (two steps: unique positions)."""
    await _sql(conn, "UPDATE events SET position = -position WHERE position > :p", p=after)
    await _sql(conn, "UPDATE events SET position = -position - :by WHERE position < 0", by=by)


async def edit_a_promotion(conn: AsyncConnection) -> None:
    position = await conn.scalar(
        sa.text("SELECT min(position) FROM events WHERE type = 'PromotionRecorded'")
    )
    data = str(await conn.scalar(sa.text(f"SELECT data FROM events WHERE position = {position}")))
    changed = orjson.dumps({**orjson.loads(data), "rationale": "rewritten"}).decode()
    await _sql(conn, "UPDATE events SET data = :d WHERE position = :p", d=changed, p=position)


async def delete_the_last_event(conn: AsyncConnection) -> None:
    await _sql(conn, "DELETE FROM events WHERE position = :p", p=await _last(conn))


async def delete_a_streams_last_event_and_renumber(conn: AsyncConnection) -> None:
    stream = await conn.scalar(sa.text("SELECT stream FROM events WHERE position = 20"))
    position = int(
        await conn.scalar(
            sa.text("SELECT max(position) FROM events WHERE stream = :s"), {"s": stream}
        )
        or 0
    )
    await _sql(conn, "DELETE FROM events WHERE position = :p", p=position)
    await _close_gap(conn, position)


async def delete_a_promotion_and_renumber(conn: AsyncConnection) -> None:
    """A promotion erased: later positions and its stream's later versions close up."""
    found = (
        await conn.execute(
            sa.text(
                "SELECT position, stream, version FROM events WHERE type = 'PromotionRecorded' "
                "ORDER BY position LIMIT 1"
            )
        )
    ).one()
    position, stream, version = int(found[0]), str(found[1]), int(found[2])
    await _sql(conn, "DELETE FROM events WHERE position = :p", p=position)
    await _close_gap(conn, position)
    shift = "UPDATE events SET version = {} WHERE stream = :s AND {}"
    await _sql(conn, shift.format("-version", "version > :v"), s=stream, v=version)
    await _sql(conn, shift.format("-version - 1", "version < 0"), s=stream)


async def delete_a_whole_stream_and_renumber(conn: AsyncConnection) -> None:
    stream = await conn.scalar(sa.text("SELECT stream FROM events WHERE position = 20"))
    result = await conn.execute(
        sa.text("SELECT position FROM events WHERE stream = :s ORDER BY position DESC"),
        {"s": stream},
    )
    for (position,) in result.all():
        await _sql(conn, "DELETE FROM events WHERE position = :p", p=position)
        await _close_gap(conn, position)


async def truncate_the_log(conn: AsyncConnection) -> None:
    await _sql(conn, "DELETE FROM events WHERE position > :p", p=await _last(conn) // 2)


async def append_a_forged_event(conn: AsyncConnection) -> None:
    last = await _last(conn)
    await _sql(
        conn,
        "INSERT INTO events (position, stream, version, event_id, type, schema_version, data, "
        "metadata, recorded_at, hash, prev_hash) SELECT :p, stream, version + 1, :e, type, "
        "schema_version, data, metadata, recorded_at, hash, hash FROM events WHERE position = :l",
        p=last + 1,
        e=_raw_id(conn, uuid.uuid4()),
        l=last,
    )


async def swap_positions_between_two_streams(conn: AsyncConnection) -> None:
    """Two neighbours in the log, of two streams, trade positions (each stream keeps its
    order, so every chain still holds)."""
    rows = (await conn.execute(sa.text("SELECT position, stream FROM events ORDER BY 1"))).all()
    a = next(p for (p, s), (_, t) in pairwise(rows) if p >= 10 and s != t)
    b = a + 1
    await _sql(conn, "UPDATE events SET position = -1 WHERE position = :a", a=a)
    await _sql(conn, "UPDATE events SET position = :a WHERE position = :b", a=a, b=b)
    await _sql(conn, "UPDATE events SET position = :b WHERE position = -1", b=b)


async def change_an_event_id(conn: AsyncConnection) -> None:
    await _sql(
        conn, "UPDATE events SET event_id = :e WHERE position = 7", e=_raw_id(conn, uuid.uuid4())
    )


async def insert_an_event_in_the_middle(conn: AsyncConnection) -> None:
    """A copy of the event at position 12 slipped in after it, in its stream and the log."""
    await _sql(conn, "UPDATE events SET position = -position - 1 WHERE position > 12")
    await _sql(conn, "UPDATE events SET position = -position WHERE position < 0")
    found = (
        await conn.execute(sa.text("SELECT stream, version FROM events WHERE position = 12"))
    ).one()
    stream, version = found[0], int(found[1])
    bump = "UPDATE events SET version = {} WHERE stream = :s AND {}"
    await _sql(conn, bump.format("-version - 1", "version > :v"), s=stream, v=version)
    await _sql(conn, bump.format("-version", "version < 0"), s=stream)
    await _sql(
        conn,
        "INSERT INTO events (position, stream, version, event_id, type, schema_version, data, "
        "metadata, recorded_at, hash, prev_hash) SELECT 13, stream, :v, :e, type, "
        "schema_version, data, metadata, recorded_at, hash, hash FROM events WHERE position = 12",
        v=version + 1,
        e=_raw_id(conn, uuid.uuid4()),
    )


async def swap_two_events_within_a_stream(conn: AsyncConnection) -> None:
    """Versions 2 and 3 of a stream trade places (and positions, so the log stays in order)."""
    stream = await conn.scalar(
        sa.text("SELECT stream FROM events WHERE version = 3 ORDER BY position LIMIT 1")
    )
    where = "stream = :s AND version = :v"
    p2 = await conn.scalar(
        sa.text(f"SELECT position FROM events WHERE {where}"), {"s": stream, "v": 2}
    )
    p3 = await conn.scalar(
        sa.text(f"SELECT position FROM events WHERE {where}"), {"s": stream, "v": 3}
    )
    move = f"UPDATE events SET position = :p, version = :to WHERE {where}"
    await _sql(conn, move, p=-1, to=-1, s=stream, v=2)
    await _sql(conn, move, p=p2, to=2, s=stream, v=3)
    await _sql(conn, move, p=p3, to=3, s=stream, v=-1)


def _raw_id(conn: AsyncConnection, value: uuid.UUID) -> str:
    return value.hex if conn.dialect.name == "sqlite" else str(value)


ATTACKS = [
    edit_a_promotion,
    delete_the_last_event,
    delete_a_streams_last_event_and_renumber,
    delete_a_promotion_and_renumber,
    delete_a_whole_stream_and_renumber,
    truncate_the_log,
    swap_positions_between_two_streams,
    change_an_event_id,
    insert_an_event_in_the_middle,
    swap_two_events_within_a_stream,
]


@pytest.fixture
def signed(demo_db: str, tmp_path: Path) -> tuple[Path, Path]:
    """(checkpoint file, public key) of the demo log, signed before any attack."""
    made = ladder("keygen", "--name", "ladder.test/log", "--out", str(tmp_path / "log"))
    assert made.exit_code == 0, made.stderr
    cp = tmp_path / "checkpoint"
    ran = with_db(demo_db, "checkpoint", "--key", str(tmp_path / "log.key"), "--out", str(cp))
    assert ran.exit_code == 0, ran.stderr
    return cp, tmp_path / "log.pub"


def _verify(url: str, cp: Path, pub: Path) -> Ran:
    return with_db(url, "verify", "--quiet", "--checkpoint", str(cp), "--public-key", str(pub))


def test_keygen_writes_a_private_key_only_its_owner_can_read(tmp_path: Path) -> None:
    ran = ladder("keygen", "--name", "ladder.test/log", "--out", str(tmp_path / "k"))
    assert ran.exit_code == 0, ran.stderr
    assert (tmp_path / "k.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "k.key").read_text().startswith("PRIVATE+KEY+ladder.test/log+")
    assert (tmp_path / "k.pub").read_text().startswith("ladder.test/log+")
    again = ladder("keygen", "--name", "ladder.test/log", "--out", str(tmp_path / "k"))
    assert again.exit_code == 6


def test_a_sound_log_verifies_against_its_checkpoint(
    demo_db: str, signed: tuple[Path, Path]
) -> None:
    ran = _verify(demo_db, *signed)
    assert ran.exit_code == 0, ran.stderr
    assert "1 signed checkpoint(s) hold" in ran.stdout
    text = signed[0].read_text()
    assert text.startswith(f"ladder.test/log\n{len(rows(demo_db))}\n")
    assert "\n\n\u2014 ladder.test/log " in text


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.__name__ for a in ATTACKS])
def test_a_reforged_attack_passes_the_chains_but_not_the_checkpoint(
    demo_db: str, signed: tuple[Path, Path], attack: Attack
) -> None:
    _attack(demo_db, attack)
    alone = with_db(demo_db, "verify", "--quiet")
    assert alone.exit_code == 0, alone.stderr  # re-forged: chains and tree agree with it
    ran = _verify(demo_db, *signed)
    assert ran.exit_code == 1, ran.stdout
    assert any(
        "do not match the checkpoint" in line or "truncated" in line for line in ran.error_lines
    ), ran.stderr


def test_a_forged_append_after_the_checkpoint_is_reported_as_not_covered(
    demo_db: str, signed: tuple[Path, Path]
) -> None:
    # Without a checkpoint for every append, an event after the last one cannot be told
    # from an honest append; it is named as not covered.
    _attack(demo_db, append_a_forged_event)
    last = len(rows(demo_db))
    ran = _verify(demo_db, *signed)
    assert f"notice: events {last}-{last} are not covered by any checkpoint given" in ran.stdout


def test_an_edit_that_leaves_the_tree_alone_is_named_without_a_checkpoint(demo_db: str) -> None:
    async def edit_and_reforge_the_chain_only(conn: AsyncConnection) -> None:
        await change_an_event_id(conn)

    _attack(demo_db, edit_and_reforge_the_chain_only, reforge=False)
    ran = with_db(demo_db, "verify", "--quiet")
    assert ran.exit_code == 1
    assert "the Merkle leaf of the event at position 7 does not match" in ran.stdout


def test_a_checkpoint_file_that_was_edited_or_cut_is_refused(
    demo_db: str, signed: tuple[Path, Path]
) -> None:
    cp, pub = signed
    original = cp.read_text()
    size = original.split("\n")[1]
    cp.write_text(original.replace(f"\n{size}\n", f"\n{int(size) - 1}\n", 1))
    assert _verify(demo_db, cp, pub).exit_code == 1
    cp.write_text(original[: original.index("\n\n")])
    ran = _verify(demo_db, cp, pub)
    assert ran.exit_code == 1
    assert ran.error_lines[0].startswith("error: manipulation: checkpoint")


def test_a_checkpoint_signed_with_another_key_is_refused(
    demo_db: str, signed: tuple[Path, Path], tmp_path: Path
) -> None:
    ladder("keygen", "--name", "ladder.test/log", "--out", str(tmp_path / "rogue"))
    rogue = tmp_path / "rogue.checkpoint"
    key = str(tmp_path / "rogue.key")
    assert with_db(demo_db, "checkpoint", "--key", key, "--out", str(rogue)).exit_code == 0
    ran = _verify(demo_db, rogue, signed[1])
    assert ran.exit_code == 1
    assert "no signature by ladder.test/log" in ran.stderr


def test_checkpoint_refuses_to_sign_a_log_that_no_longer_extends_the_last_one(
    demo_db: str, signed: tuple[Path, Path], tmp_path: Path
) -> None:
    cp, _ = signed
    before = cp.read_text()
    _attack(demo_db, edit_a_promotion)
    ran = with_db(demo_db, "checkpoint", "--key", str(tmp_path / "log.key"), "--out", str(cp))
    assert ran.exit_code == 1
    assert "rewritten history" in ran.stderr
    assert cp.read_text() == before


def test_a_repointed_idempotency_record_is_named(demo_db: str) -> None:
    async def repoint(conn: AsyncConnection) -> None:
        await _sql(conn, "UPDATE idempotency_keys SET positions = '[1]' WHERE positions = '[2]'")

    _attack(demo_db, repoint, reforge=False)
    ran = with_db(demo_db, "verify", "--quiet")
    assert ran.exit_code == 1
    assert "points at positions [1], but its events are at [2]: the record was changed" in (
        ran.stdout
    )


def test_verify_read_models_names_a_served_row_edited_behind_the_projector(demo_db: str) -> None:
    assert with_db(demo_db, "rebuild", "-q").exit_code == 0
    clean = with_db(demo_db, "verify", "--quiet", "--read-models")
    assert clean.exit_code == 0, clean.stdout

    async def promote_by_hand(conn: AsyncConnection) -> str:
        person = str(await conn.scalar(sa.text("SELECT min(person_id) FROM rm_people")))
        await _sql(conn, "UPDATE rm_people SET level = 'vp' WHERE person_id = :p", p=person)
        return person

    person = on_db(demo_db, promote_by_hand, write=True)
    ran = with_db(demo_db, "verify", "--quiet", "--read-models")
    assert ran.exit_code == 1
    assert f"read model people (rm_people): rows that differ from the log: {person}" in ran.stdout
