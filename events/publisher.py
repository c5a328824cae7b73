"""Signing every committed append into a checkpoint log kept outside the database.

``CheckpointPublisher`` is an append listener (``SqlEventStore.add_listener``): the store
awaits it after each commit and before ``append`` returns, so a mutation is acknowledged
only once a signed checkpoint covering it is on disk. Group commit: while one checkpoint
is being signed and written, later appends wait for it and the next checkpoint covers
them all, so one signature and one ``fsync`` serve a whole batch. In the relaxed mode
(``run_every``) appends do not wait; a checkpoint is signed every N ms instead.

The checkpoint log is a file of JSON Lines, appended to and never rewritten, one
``{"note": "<signed checkpoint>"}`` per line (a note holds newlines, so it is quoted).
``read_checkpoint_log`` opens it; ``check_tail`` is the start-up check of the log's tail
against the last checkpoint.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from events.port import RecordedEvent
from events.schema import events_table as T
from events.schema import merkle_table as N
from events.sql_store import SqlEventStore
from events.tlog import Checkpoint, CheckpointError, NoteSigner, NoteVerifier, open_checkpoint
from events.tree import ENTRY_SELECTION, TreeDamaged, root_at, row_leaf, tree_size

log = logging.getLogger(__name__)
_TAIL_EVENTS = 1000


class CheckpointPublisher:
    """Signs the tree head after appends and appends it to the checkpoint log."""

    def __init__(
        self,
        store: SqlEventStore,
        signer: NoteSigner,
        path: str | Path,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.signer = signer
        self.path = Path(path)
        self.covered = 0
        self.published = 0
        self._clock = clock or (lambda: datetime.now(UTC))
        self._task: asyncio.Future[None] | None = None

    async def __call__(self, recorded: list[RecordedEvent]) -> None:
        await self.cover(recorded[-1].position)

    async def cover(self, position: int) -> None:
        """Return once a checkpoint of at least ``position`` events is in the log."""
        while self.covered < position:
            if self._task is None:
                self._task = asyncio.ensure_future(self._publish(position))
            await asyncio.shield(self._task)

    async def _publish(self, position: int) -> None:
        try:
            size, root = await self.store.tree_head(position)
            if size > self.covered:
                checkpoint = Checkpoint(self.signer.name, size, root, self._clock())
                note = self.signer.sign(checkpoint.text())
                await asyncio.to_thread(self._append, note)
                self.published += 1
            self.covered = max(self.covered, size)
        finally:
            self._task = None

    async def run_every(self, seconds: float) -> None:
        """The relaxed mode: instead of waiting in each append, sign whatever the log
        holds every ``seconds`` (until cancelled). An append is then acknowledged up to
        ``seconds`` before a checkpoint covers it."""
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.cover(await self.store.last_position())
            except Exception:  # the next round tries again; the window is logged
                log.exception("signing a checkpoint failed")

    def _append(self, note: str) -> None:
        line = orjson.dumps({"note": note}) + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def read_checkpoint_log(path: str | Path, verifier: NoteVerifier) -> list[Checkpoint]:
    """Every checkpoint of the log, each signature checked; raises ``CheckpointError``
    naming the line of the first that is malformed or not signed by ``verifier``."""
    checkpoints: list[Checkpoint] = []
    with Path(path).open("rb") as source:
        for number, raw in enumerate(source, start=1):
            if not raw.strip():
                continue
            try:
                note = orjson.loads(raw)["note"]
                checkpoints.append(open_checkpoint(str(note), verifier))
            except (orjson.JSONDecodeError, KeyError, TypeError, CheckpointError) as exc:
                raise CheckpointError(f"line {number}: {exc}") from None
    return checkpoints


async def check_tail(engine: AsyncEngine, checkpoint: Checkpoint) -> str | None:
    """What is wrong with the log against its last checkpoint, or None.

    Cheap enough for every start: the stored tree's root at the checkpoint's size (a
    history rewritten or truncated behind the store), and the leaves of the last
    events recomputed from the events (an edit the tree was not told about). The whole
    log is ``ladder verify``'s job.
    """
    async with engine.connect() as conn:
        size = await tree_size(conn)
        if size < checkpoint.size:
            return (
                f"the log has {size} events but the last checkpoint covers "
                f"{checkpoint.size}: events were deleted"
            )
        try:
            if await root_at(conn, checkpoint.size) != checkpoint.root:
                return f"the first {checkpoint.size} events no longer match the last checkpoint"
        except TreeDamaged as exc:
            return str(exc)
        first = max(0, size - _TAIL_EVENTS)
        rows = (
            await conn.execute(
                sa.select(*ENTRY_SELECTION).where(T.c.position > first).order_by(T.c.position)
            )
        ).all()
        leaves = {
            int(r[1]): bytes(r[2])
            for r in await conn.execute(
                sa.select(N.c.level, N.c.idx, N.c.hash).where(N.c.level == 0, N.c.idx >= first)
            )
        }
    for r in rows:
        try:
            leaf = row_leaf(tuple(r))
        except orjson.JSONDecodeError:
            return f"the event at position {r[0]} is not valid JSON"
        if leaves.get(r[0] - 1) != leaf:
            return f"the event at position {r[0]} does not match its Merkle leaf"
    return None
