"""Every committed append covered by a signed checkpoint, and the start-up tail check."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from api.services import runtime_services
from api.settings import Settings
from events.merkle import verify_consistency
from events.port import ANY, NewEvent
from events.publisher import CheckpointPublisher, read_checkpoint_log
from events.sql_store import SqlEventStore
from events.tlog import NoteSigner
from events.tree import backfill
from tests.integration.cli.helpers import ladder
from tests.support import bypass_append_only

SIGNER = NoteSigner.generate("ladder.test/log")


def _settings(url: str, tmp_path: Path) -> Settings:
    key = tmp_path / "log.key"
    if not key.exists():
        key.write_text(SIGNER.text() + "\n")
    return Settings(
        _env_file=None,
        database_url=url,
        checkpoint_key=str(key),
        checkpoint_log=str(tmp_path / "checkpoints.jsonl"),
    )


async def test_each_append_returns_only_once_a_checkpoint_covers_it(
    store: SqlEventStore, tmp_path: Path
) -> None:
    publisher = CheckpointPublisher(store, SIGNER, tmp_path / "log.jsonl")
    store.add_listener(publisher)
    for i in range(5):
        [position] = await store.append("person-a", [NewEvent("Noted", {"i": i})], ANY)
        assert publisher.covered >= position
    logged = read_checkpoint_log(tmp_path / "log.jsonl", SIGNER.verifier())
    assert [c.size for c in logged] == [1, 2, 3, 4, 5]
    for c in logged:
        assert (await store.tree_root(c.size))[1] == c.root
    proof = await store.consistency_proof(2, 5)
    verify_consistency(2, 5, logged[1].root, logged[4].root, proof)


class SlowDisk(CheckpointPublisher):
    """A checkpoint log whose writes take 50 ms, so that appends pile up behind one."""

    def _append(self, note: str) -> None:
        time.sleep(0.05)
        super()._append(note)


async def test_appends_waiting_for_a_checkpoint_share_the_next_one(
    store: SqlEventStore, tmp_path: Path
) -> None:
    publisher = SlowDisk(store, SIGNER, tmp_path / "log.jsonl")
    store.add_listener(publisher)
    await asyncio.gather(
        *(store.append(f"person-{i}", [NewEvent("Noted", {"i": i})], ANY) for i in range(30))
    )
    assert publisher.covered == 30
    assert publisher.published < 10  # group commit: one signature served several appends
    assert read_checkpoint_log(tmp_path / "log.jsonl", SIGNER.verifier())[-1].size == 30


async def _reforged_edit(conn: AsyncConnection) -> None:
    """Change event 2's data, then rebuild the whole tree (the chain check is not the point)."""
    await bypass_append_only(conn)
    await conn.execute(sa.text("""UPDATE events SET data = '{"i": 99}' WHERE position = 2"""))
    await conn.execute(sa.text("DELETE FROM merkle_nodes"))
    await conn.run_sync(backfill)


async def test_the_server_refuses_to_call_a_tampered_log_ready(db_url: str, tmp_path: Path) -> None:
    settings = _settings(db_url, tmp_path)
    async with runtime_services(settings) as services:
        for i in range(4):
            await services.store.append("person-a", [NewEvent("Noted", {"i": i})], ANY)
        assert await services.ready()
        size = (await services.store.tree_root())[0]
    logged = read_checkpoint_log(tmp_path / "checkpoints.jsonl", SIGNER.verifier())
    assert logged[-1].size == size
    public = tmp_path / "log.pub"
    public.write_text(SIGNER.verifier().text() + "\n")
    verify = ("verify", "-q", "--database-url", db_url, "--checkpoint-log",
              str(tmp_path / "checkpoints.jsonl"), "--public-key", str(public))  # fmt: skip
    assert (await asyncio.to_thread(ladder, *verify)).exit_code == 0

    async with runtime_services(settings) as services:
        assert services.log_problem is None
        async with services.runtime.engine.begin() as conn:
            await _reforged_edit(conn)

    async with runtime_services(settings) as services:
        assert services.log_problem is not None
        assert "no longer match the last checkpoint" in services.log_problem
        assert not await services.ready()
    ran = await asyncio.to_thread(ladder, *verify)
    assert ran.exit_code == 1
    assert "manipulation: the first 2 events do not match" in ran.stdout

    env = {
        "LADDER_CHECKPOINT_KEY": str(settings.checkpoint_key),
        "LADDER_CHECKPOINT_LOG": str(settings.checkpoint_log),
    }
    rebuild = ("rebuild", "people", "-q", "--database-url", db_url)
    refused = await asyncio.to_thread(ladder, *rebuild, env=env)
    assert refused.exit_code == 6
    assert "no longer match the last checkpoint" in refused.stderr
    forced = await asyncio.to_thread(ladder, *rebuild, "--unverified", env=env)
    assert forced.exit_code == 0, forced.stderr


async def test_the_relaxed_mode_signs_on_a_timer_without_holding_appends(
    store: SqlEventStore, tmp_path: Path
) -> None:
    publisher = CheckpointPublisher(store, SIGNER, tmp_path / "log.jsonl")
    timer = asyncio.create_task(publisher.run_every(0.05))
    try:
        for i in range(10):
            await store.append("person-a", [NewEvent("Noted", {"i": i})], ANY)
        for _ in range(100):
            if publisher.covered == 10:
                break
            await asyncio.sleep(0.02)
    finally:
        timer.cancel()
        await asyncio.gather(timer, return_exceptions=True)
    logged = read_checkpoint_log(tmp_path / "log.jsonl", SIGNER.verifier())
    assert logged[-1].size == 10
    assert len(logged) < 10
