"""Reliability: ``kill -9`` during a mutation load loses no acknowledged write and doubles
none, on SQLite and PostgreSQL.

Eight clients hire people through ``ladder serve`` (each hire with its own idempotency
key) while the server is killed with SIGKILL three times and started again. Requests that
got no answer are retried with the same key after the restart, as a client would. Then:
every acknowledged hire is in the log exactly once, no person was hired twice, the hash
chains verify, and the read models equal a rebuild.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
import pytest

from api.auth import Role
from events.db import create_engine
from events.projections import ALL
from events.projector import Projector
from events.sql_store import SqlEventStore
from tests.e2e.conftest import TEST_SECRET, mint
from tests.e2e.live_api import HIRE, new_id
from tests.integration.cli.helpers import with_db
from tests.support import create_pg_schema, drop_pg_schema, pg_schema_url, require_postgres

pytestmark = pytest.mark.reliability

KILLS = 3
CLIENTS = 8
WRITES_PER_ROUND = 400
"""At most this many new hires per round; a round with a kill ends when the server dies."""
FINAL_WRITES = 40
HR = mint(Role.HR, "hr-load")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'kill9.db'}"
        return
    require_postgres()
    schema = create_pg_schema("kill9")
    try:
        yield pg_schema_url(schema)
    finally:
        drop_pg_schema(schema)


def start(url: str, port: int) -> subprocess.Popen[bytes]:
    if shutil.which("ladder") is None:
        pytest.fail("the ladder command is not installed (pip install -e .)")
    env = {**os.environ, "LADDER_TOKEN_SECRET": TEST_SECRET, "LADDER_DATABASE_URL": url}
    proc = subprocess.Popen(
        ["ladder", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"ladder serve did not start (exit {proc.returncode})")
        time.sleep(0.1)


@dataclass
class Load:
    """What the clients were told: acknowledged hires, and requests without an answer."""

    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> person id
    unanswered: dict[str, dict[str, object]] = field(default_factory=dict)  # key -> input
    doubled_answers: int = 0
    cut_off: int = 0
    """Requests in flight when a kill landed (answered only after the restart)."""


def hire_input(key: str) -> dict[str, object]:
    return {
        "personId": new_id(),
        "name": f"Load {key}",
        "email": f"{key}@example.com",
        "track": "product",
        "level": "apm",
        "hiredOn": date(2020, 1, 6).isoformat(),
        "idempotencyKey": key,
    }


async def send(client: httpx.AsyncClient, load: Load, key: str, data: dict[str, object]) -> bool:
    """One hire; True when the server answered (acknowledged or refused)."""
    try:
        response = await client.post(
            "/graphql",
            json={"query": HIRE, "variables": {"input": data}},
            headers={"authorization": f"Bearer {HR}", "accept": "application/json"},
            timeout=10,
        )
        body = response.json()
    except (httpx.HTTPError, ValueError):
        load.unanswered[key] = data
        return False
    payload = (body.get("data") or {}).get("hirePerson")
    if payload is None or payload["errors"]:
        raise AssertionError(f"a hire was refused: {body}")
    if key in load.acknowledged and not payload["replayed"]:
        load.doubled_answers += 1
    load.acknowledged[key] = str(data["personId"])
    load.unanswered.pop(key, None)
    return True


async def round_of_writes(port: int, load: Load, round_no: int, writes: int) -> None:
    """Retry what went unanswered, then write until done or the server goes away."""
    keys = [f"r{round_no}-{i}" for i in range(writes)]
    queue: asyncio.Queue[tuple[str, dict[str, object]]] = asyncio.Queue()
    for key, data in list(load.unanswered.items()):
        queue.put_nowait((key, data))
    for key in keys:
        queue.put_nowait((key, hire_input(key)))
    stop = asyncio.Event()

    async def client() -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            while not queue.empty() and not stop.is_set():
                key, data = queue.get_nowait()
                if not await send(http, load, key, data):
                    stop.set()

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    load.cut_off += len(load.unanswered)


async def check_log(url: str, load: Load) -> tuple[int, int]:
    """(acknowledged hires found once, people hired more than once)."""
    engine = create_engine(url)
    store = SqlEventStore(engine)
    try:
        hires: dict[str, int] = {}
        after = 0
        while batch := await store.read_all(after, 5000, types=["PersonHired"]):
            for e in batch:
                hires[e.stream.removeprefix("person-")] = (
                    hires.get(e.stream.removeprefix("person-"), 0) + 1
                )
            after = batch[-1].position
        found = sum(1 for pid in load.acknowledged.values() if hires.get(pid) == 1)
        doubled = sum(1 for n in hires.values() if n > 1)
        projector = Projector(engine, store, ALL)
        await projector.start()
        assert all(c.ok for c in await projector.check_consistency())
        return found, doubled
    finally:
        await store.close()
        await engine.dispose()


@pytest.mark.parametrize(
    "kind",
    [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)],
)
def test_kill_9_under_load_loses_no_acknowledged_write_and_doubles_none(
    kind: str, tmp_path: Path
) -> None:
    load = Load()
    with database(kind, tmp_path) as url:
        port = _free_port()
        for round_no in range(KILLS + 1):
            proc = start(url, port)
            try:
                last = round_no == KILLS
                if last:
                    asyncio.run(round_of_writes(port, load, round_no, FINAL_WRITES))
                else:
                    killer = _kill_after(proc, seconds=0.5 + 0.3 * round_no)
                    asyncio.run(round_of_writes(port, load, round_no, WRITES_PER_ROUND))
                    killer.join()
            finally:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
                    try:
                        proc.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        proc.kill()
        assert not load.unanswered, "every request was answered in the end"
        found, doubled = asyncio.run(check_log(url, load))
        verified = with_db(url, "verify", "-q")
    print(
        f"\n{kind}: {KILLS} kills, {len(load.acknowledged)} acknowledged writes "
        f"({load.cut_off} cut off by a kill and retried), "
        f"{len(load.acknowledged) - found} lost, {doubled} doubled"
    )
    assert load.cut_off >= KILLS, "each kill landed while writes were in flight"
    assert found == len(load.acknowledged)
    assert doubled == 0
    assert load.doubled_answers == 0
    assert verified.exit_code == 0, verified.stderr


def _kill_after(proc: subprocess.Popen[bytes], seconds: float) -> threading.Thread:
    def kill() -> None:
        time.sleep(seconds)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread
