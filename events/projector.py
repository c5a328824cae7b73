"""The projector: keeps the read models in step with the log.

Read models are derived data. Their tables (``rm_*``) and ``projection_checkpoints`` are
created with ``metadata.create_all`` on start and are *not* managed by Alembic: when a
projection's code changes shape, its ``version`` is bumped and the projector rebuilds it
from the log into fresh tables and swaps them in. Rebuilding is the migration.

A projection (``events.projections.base.Projection``) is a set of pure functions
``(row | None, envelope) -> row | None`` registered by event type with a key function.

The runner reads ``store.read_all`` from the lowest checkpoint, applies each event to
every projection that has not seen it yet, and writes the rows and the checkpoints
(position and applied count) in ONE transaction. The checkpoint rows are locked for the
duration (``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so
two processes never apply the same events twice; an ``asyncio.Lock`` does the same within
a process.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events import dead_letters
from events.bulk import (
    chunks,
    copy_rows,
    lazy_insert_plan,
    load_missing,
    next_table,
    paced,
    page_reader,
    write_changes,
)
from events.checkpoints import Checkpoint, Consistency
from events.db import create_engine, write_engine
from events.dead_letters import TRANSIENT
from events.port import EventStore, RecordedEvent
from events.projections import ALL
from events.projections.base import Envelope, Projection, Workspace
from events.readmodels.tables import METADATA, checkpoints
from events.rebuild_workers import Built, address, build_elsewhere, share
from events.schema import events_table
from events.sql_store import SqlEventStore
from events.swap import create_next, drop_retired, index_ahead, swap_in

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
"""Called as ``progress(position_reached, last_position)`` during a rebuild."""

_REBUILD_LOCK = sa.text("SELECT pg_advisory_lock(hashtext(current_schema() || '.rm_rebuild'))")
_REBUILD_UNLOCK = sa.text("SELECT pg_advisory_unlock(hashtext(current_schema() || '.rm_rebuild'))")
# A rebuild writes its new tables in transactions of their own. On SQLite each holds the
# one writer's lock, and the tables are indexed as they are written (``create_next``):
# the rows per transaction adapt so that each takes about _WRITE_SECONDS, and appends
# wait at most that long. PostgreSQL ``COPY``s _PG_CHUNK rows at a time.
_WRITE_SECONDS = 0.15
_FIRST_CHUNK = 2_000
_PG_CHUNK = 50_000


def _now() -> datetime:
    return datetime.now(UTC)


class Projector:
    """Runs projections against one database and one log.

    ``start()`` creates the tables, rebuilds every projection whose stored version differs
    from the code's (or that was never built) and catches up. ``catch_up()`` is idempotent
    and safe to call concurrently; the application service calls it after each append so
    a mutation's events are in the read models by the time it returns.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        store: EventStore,
        projections: Sequence[Projection],
        *,
        batch_size: int = 1000,
        rebuild_workers: int | None = None,
        parallel_from: int = 50_000,
    ) -> None:
        """``rebuild_workers``: processes a rebuild may use in all (default: up to two,
        one per core), once the log holds ``parallel_from`` events (below that, starting
        a process costs more than it saves)."""
        names = [p.name for p in projections]
        if len(set(names)) != len(names):
            raise ValueError("projection names must be unique")
        self.engine = engine
        self.store = store
        self.projections: tuple[Projection, ...] = tuple(sorted(projections, key=lambda p: p.name))
        self.batch_size = batch_size
        self.rebuild_workers = rebuild_workers or min(2, os.cpu_count() or 1)
        self.parallel_from = parallel_from
        self._writer = write_engine(engine)
        self._lock = asyncio.Lock()
        self._start_lock = asyncio.Lock()
        self._started = False
        self._sqlite = engine.dialect.name == "sqlite"
        self.applied_to = 0
        """The log position every projection has reached, as far as this process knows
        (it only grows; other processes may have applied more)."""
        self._chunk_rows: dict[str, int] = {}
        self.longest_write = 0.0
        """The longest transaction a rebuild's writes into its new tables took (seconds)."""
        self.last_swap: tuple[float, float] | None = None
        """When the last rebuild's swap took the lock and committed (``time.time()``)."""

    def applied_inline(self, position: int) -> None:
        """An append ending at ``position`` was applied to every projection in its own
        committed transaction (``events.inline``, which found them all just before it):
        a wake-up for it then needs no catch-up transaction."""
        self.applied_to = max(self.applied_to, position)

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, progress: Progress | None = None) -> None:
        """Create tables, rebuild stale projections, then catch up (saying so in the log,
        with progress, when the read models are more than a batch behind).

        Nothing here reads the log beyond the checkpoints: with current read models,
        starting costs a few queries whatever the log's size."""
        await self._ensure_started(progress)
        cps = await self.checkpoints()
        last = await self.store.last_position()
        start = min((c.position for c in cps), default=0)
        if last - start <= self.batch_size:
            await self.catch_up()
            return
        log.info(
            "read models are %d events behind the log (at %d of %d): catching up",
            last - start,
            start,
            last,
        )
        t0 = time.perf_counter()
        logged = self._log_progress(last)

        def report(position: int, _: int) -> None:
            logged(position, last)
            if progress is not None:
                progress(position, last)

        applied = await self.catch_up(progress=report)
        log.info(
            "read models caught up to position %d: %d events in %.1f s (%d applications)",
            self.applied_to,
            self.applied_to - start,
            time.perf_counter() - t0,
            applied,
        )

    @staticmethod
    def _log_progress(last: int, every: float = 2.0) -> Progress:
        """A ``Progress`` that logs where a catch-up is, at most every ``every`` seconds."""
        logged = time.perf_counter()

        def report(position: int, end: int) -> None:
            nonlocal logged
            if time.perf_counter() - logged >= every:
                logged = time.perf_counter()
                log.info("catching up: at position %d of %d", position, max(end, last))

        return report

    async def _ensure_started(self, progress: Progress | None = None) -> None:
        if self._started:
            return
        async with self._start_lock, self.engine.connect() as guard:
            if self._started:
                return
            if not self._sqlite:
                # Several processes may start at once: one rebuilds, the others then find
                # the versions current. A session lock, released below.
                await guard.execute(_REBUILD_LOCK)
                await guard.commit()
            try:
                async with self.engine.begin() as conn:
                    await conn.run_sync(METADATA.create_all)
                stored = {c.name: c for c in await self.checkpoints()}
                stale = [
                    p.name
                    for p in self.projections
                    if p.name not in stored or stored[p.name].version != p.version
                ]
                if stale:
                    await self.rebuild(stale, progress=progress)
                self._started = True
            finally:
                if not self._sqlite:
                    await guard.execute(_REBUILD_UNLOCK)
                    await guard.commit()

    async def checkpoints(self) -> list[Checkpoint]:
        async with self.engine.connect() as conn:
            result = await conn.execute(sa.select(checkpoints).order_by(checkpoints.c.name))
            return [Checkpoint(**r._mapping) for r in result]

    async def check_consistency(self) -> list[Consistency]:
        """Compare each projection's applied count and position with the log."""
        stored = {c.name: c for c in await self.checkpoints()}
        E = events_table
        reports: list[Consistency] = []
        async with self.engine.connect() as conn:
            for p in self.projections:
                cp = stored.get(p.name)
                position, applied = (cp.position, cp.applied_count) if cp else (0, 0)
                handled = E.c.type.in_(p.types)
                up_to = sa.func.count().filter(E.c.position <= position)
                after = sa.func.count().filter(E.c.position > position)
                row = (await conn.execute(sa.select(up_to, after).where(handled))).one()
                reports.append(Consistency(p.name, position, applied, row[0], row[1]))
        return reports

    # --- incremental ----------------------------------------------------------------------

    async def catch_up(
        self,
        known: Sequence[RecordedEvent] = (),
        *,
        until: int | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Apply every event not yet applied; return how many events were applied in all.

        ``known``: events the caller just appended (as recorded); when they are exactly
        the next ones, they are applied from memory instead of read back from the log.
        ``until`` (or the last of ``known``): nothing is done, not even a query, when this
        projector has already applied the log that far (another caller got there first)."""
        await self._ensure_started()
        target = known[-1].position if known else until
        if target is not None and self.applied_to >= target:
            return 0
        applied = 0
        async with self._lock:
            if target is not None and self.applied_to >= target:
                return 0
            while True:
                try:
                    n = await self._catch_up_batch(known=known)
                except TRANSIENT:
                    raise
                except Exception:
                    # Something in this batch cannot be applied or stored: do it again
                    # event by event, recording what fails as dead letters.
                    log.warning("projector batch failed; applying it event by event")
                    n = await self._catch_up_batch(careful=True, known=known)
                if n < 0:
                    return applied
                applied += n
                if progress is not None:
                    progress(self.applied_to, self.applied_to)

    async def _lock_checkpoints(
        self, conn: AsyncConnection, names: Sequence[str]
    ) -> dict[str, Checkpoint]:
        query = (
            sa.select(checkpoints)
            .where(checkpoints.c.name.in_(names))
            .order_by(checkpoints.c.name)
            .with_for_update()
        )
        result = await conn.execute(query)
        return {r.name: Checkpoint(**r._mapping) for r in result}

    def _types(self, projections: Iterable[Projection]) -> list[str]:
        return sorted({t for p in projections for t in p.types})

    async def _catch_up_batch(
        self, *, careful: bool = False, known: Sequence[RecordedEvent] = ()
    ) -> int:
        """One batch for every projection in one transaction; -1 when nothing was left.

        ``careful``: each event under its own savepoint, and one that fails is recorded
        as a dead letter instead of failing the batch."""
        names = [p.name for p in self.projections]
        applied, reached = await self._catch_up_tx(names, careful, known)
        if reached is not None:  # committed: every projection is at least that far
            self.applied_to = max(self.applied_to, reached)
        return applied

    async def _catch_up_tx(
        self, names: list[str], careful: bool, known: Sequence[RecordedEvent]
    ) -> tuple[int, int | None]:
        async with self._writer.begin() as conn:
            cps = await self._lock_checkpoints(conn, names)
            live = [p for p in self.projections if p.name in cps]
            if not live:
                return -1, None
            start = min(cps[p.name].position for p in live)
            if known and known[0].position == start + 1 and len(known) <= self.batch_size:
                records = list(known)
            else:
                records = await self.store.read_all(after_position=start, limit=self.batch_size)
            if not records:
                return -1, (start if len(live) == len(self.projections) else None)
            types = set(self._types(live))
            envelopes = [Envelope.of(r) for r in records if r.type in types]
            end = records[-1].position
            applied = 0
            for p in live:
                cp = cps[p.name]
                if cp.position >= end:
                    continue
                envs = [e for e in envelopes if e.position > cp.position and p.handles(e.type)]
                if careful:
                    done = await dead_letters.apply_each(conn, p, envs)
                else:
                    ws = Workspace(p, complete=False)
                    await load_missing(conn, ws, p.table, envs)
                    for env in envs:
                        ws.apply(env)
                    await write_changes(conn, ws, p.table, delete=True)
                    done = ws.applied
                await conn.execute(
                    sa.update(checkpoints)
                    .where(checkpoints.c.name == p.name)
                    .values(
                        position=end,
                        applied_count=cp.applied_count + done,
                        updated_at=_now(),
                    )
                )
                applied += done
            return applied, (end if len(live) == len(self.projections) else None)

    # --- rebuild --------------------------------------------------------------------------

    async def rebuild(
        self,
        names: Sequence[str] | None = None,
        *,
        progress: Progress | None = None,
        batch_size: int = 20_000,
        max_rows_in_memory: int = 150_000,
        workers: int | None = None,
    ) -> int:
        """Rebuild projections from position 0 into fresh tables, then swap them in.

        One pass over the log: rows are kept in memory and written to the new tables in
        short transactions whenever more than ``max_rows_in_memory`` are held, and dropped
        from memory then (a later event loads back only a row that was written; bounded
        memory). SQLite's new tables are indexed from the start (no index build holds its
        one writer); PostgreSQL's are indexed once, after their rows (``events.swap``).
        The new tables are then caught up to the head, and only then is the lock taken: the swap
        (apply the few events appended meanwhile, rename, set the checkpoint) is one short
        transaction, so queries see the old tables until it commits. With ``workers`` > 1
        (default: the projector's ``rebuild_workers`` once the log is big enough) groups of
        projections are built in other processes at the same time
        (``events.rebuild_workers``). On SQLite a projection never built whose table is
        empty (a new database) is built in that table, with no swap (``_unbuilt``).
        Returns the position the rebuilt projections reached.
        """
        wanted = set(names) if names is not None else {p.name for p in self.projections}
        unknown = wanted - {p.name for p in self.projections}
        if unknown:
            raise KeyError(f"unknown projections: {sorted(unknown)}")
        chosen = [p for p in self.projections if p.name in wanted]
        # A rebuild holds many rows in memory, hundreds of thousands of objects that stay
        # alive: the cyclic collector would walk them again at each full collection and
        # find nothing (a third of a rebuild's time). Paused for its duration; rows and
        # envelopes are acyclic, so reference counting still frees what is dropped.
        paused = gc.isenabled()
        gc.disable()
        try:
            return await self._rebuild(chosen, progress, batch_size, max_rows_in_memory, workers)
        finally:
            if paused:
                gc.enable()

    async def _rebuild(
        self,
        chosen: Sequence[Projection],
        progress: Progress | None,
        batch_size: int,
        max_rows_in_memory: int,
        workers: int | None,
    ) -> int:
        async with self._writer.begin() as conn:
            await conn.run_sync(METADATA.create_all)
            await dead_letters.clear_pending(conn, [p.name for p in chosen])
            unbuilt = await self._unbuilt(conn, chosen)
        await drop_retired(self._writer, chosen)  # what an interrupted swap left
        wanted = self.rebuild_workers if workers is None else workers
        big = workers is not None or await self.store.last_position() >= self.parallel_from
        here, away = share(chosen, wanted if big else 1, self.store, self.engine)
        in_place = frozenset(p.name for p in here if p.name in unbuilt)
        elsewhere = (
            asyncio.ensure_future(self._build_away(away, batch_size, max_rows_in_memory))
            if away
            else None
        )
        try:
            spaces, position = await self._build(
                here, progress, batch_size, max_rows_in_memory, in_place
            )
            reached = {p.name: position for p in here}
            if elsewhere is not None:
                more, reached_there = await elsewhere
                spaces.update(more)
                reached.update(reached_there)
        finally:
            if elsewhere is not None and not elsewhere.done():
                elsewhere.cancel()
                await asyncio.gather(elsewhere, return_exceptions=True)
        targets = {p.name: p.table if p.name in in_place else next_table(p.table) for p in chosen}
        types = set(self._types(chosen))
        position = min(reached.values(), default=position)
        # Bring the new tables up to the head before taking the lock (appends went on while
        # they were built and indexed): the swap then applies only what comes meanwhile.
        position, reached = await self._catch_up_new(
            chosen, spaces, targets, types, position, reached, batch_size
        )
        locked = time.time()
        async with self._lock, self._writer.begin() as conn:
            locked = time.time()
            await self._ensure_checkpoints(conn, [p.name for p in chosen])
            await self._lock_checkpoints(conn, [p.name for p in chosen])
            # The tail appended while we were building, read under the lock: nothing is lost.
            while records := await self.store.read_all(after_position=position, limit=batch_size):
                envs = [Envelope.of(r) for r in records if r.type in types]
                await self._apply_rebuild(chosen, spaces, targets, envs, conn=conn, after=reached)
                position = records[-1].position
            for p in chosen:
                await dead_letters.write_each(conn, spaces[p.name], targets[p.name])
                if p.name not in in_place:
                    await swap_in(conn, p, targets[p.name])
                await conn.execute(
                    sa.update(checkpoints)
                    .where(checkpoints.c.name == p.name)
                    .values(
                        version=p.version,
                        position=max(position, reached[p.name]),
                        applied_count=spaces[p.name].applied,
                        updated_at=_now(),
                    )
                )
            await dead_letters.promote_pending(conn, [p.name for p in chosen])
        self.last_swap = (locked, time.time())
        log.info(
            "rebuild of %s swapped in at position %d; writers held %.3f s",
            ", ".join(p.name for p in chosen),
            position,
            self.last_swap[1] - locked,
        )
        await drop_retired(self._writer, [p for p in chosen if p.name not in in_place])
        last = max(reached.values(), default=position)
        if progress is not None:
            progress(max(position, last), max(position, last))
        return max(position, last)

    async def _unbuilt(self, conn: AsyncConnection, chosen: Sequence[Projection]) -> set[str]:
        """On SQLite, the projections of ``chosen`` never built (no checkpoint) whose table
        is empty: a new database, a projection added since. They are built in their own
        table, not in a ``__next`` one swapped in after (SQLite indexes new tables from the
        start anyway, so the rows cost the same). Until the rebuild writes its checkpoint,
        nothing else writes that table: catch-ups and the inline projector skip a
        projection without one. PostgreSQL keeps the ``__next`` tables, indexed once
        after their rows."""
        if not self._sqlite:
            return set()
        names = [p.name for p in chosen]
        result = await conn.execute(
            sa.select(checkpoints.c.name).where(checkpoints.c.name.in_(names))
        )
        built = set(result.scalars())
        unbuilt: set[str] = set()
        for p in chosen:
            if p.name in built:
                continue
            if await conn.scalar(sa.select(sa.literal(1)).select_from(p.table).limit(1)) is None:
                unbuilt.add(p.name)
        return unbuilt

    async def _catch_up_new(
        self,
        chosen: Sequence[Projection],
        spaces: dict[str, Workspace],
        targets: dict[str, sa.Table],
        types: set[str],
        position: int,
        reached: dict[str, int],
        batch_size: int,
    ) -> tuple[int, dict[str, int]]:
        """Apply the log after ``position`` to the new tables, without the lock, written in
        short transactions: (the position reached, each projection's position)."""
        start = position
        head = await self.store.last_position()  # what came after it is the swap's tail
        while position < head and (
            records := await self.store.read_all(after_position=position, limit=batch_size)
        ):
            envs = [Envelope.of(r) for r in records if r.type in types]
            await self._apply_rebuild(chosen, spaces, targets, envs, after=reached)
            position = records[-1].position
            reached = {name: max(at, position) for name, at in reached.items()}
        if position > start:
            for p in chosen:
                await self._flush(spaces[p.name], targets[p.name])
            log.info("rebuild caught up %d events appended while it built", position - start)
        return position, reached

    async def _build_away(
        self, groups: list[list[Projection]], batch_size: int, max_rows_in_memory: int
    ) -> tuple[dict[str, Workspace], dict[str, int]]:
        """Build ``groups`` in worker processes (here if a worker fails): their workspaces
        (rows already written, applied counts kept) and the positions they reached."""
        url, schema = await address(self.engine)
        try:
            built = await build_elsewhere(
                _build_in_worker,
                url,
                schema,
                groups,
                batch_size=batch_size,
                max_rows_in_memory=max_rows_in_memory,
            )
        except Exception:  # a worker could not start or died: build its share here
            log.warning("rebuild worker failed; building its share here", exc_info=True)
            rest = [p for g in groups for p in g]
            spaces, at = await self._build(rest, None, batch_size, max_rows_in_memory)
            return spaces, {p.name: at for p in rest}
        spaces = {}
        for name, (_, applied) in built.items():
            ws = spaces[name] = Workspace(self._named(name), complete=False)
            ws.applied = applied
        return spaces, {name: at for name, (at, _) in built.items()}

    def _named(self, name: str) -> Projection:
        return next(p for p in self.projections if p.name == name)

    async def _build(
        self,
        chosen: Sequence[Projection],
        progress: Progress | None,
        batch_size: int,
        max_rows_in_memory: int,
        in_place: frozenset[str] = frozenset(),
    ) -> tuple[dict[str, Workspace], int]:
        """Read the whole log into new tables for ``chosen`` (``<table>__next``; their own
        table for those ``in_place``, never built and empty: ``_unbuilt``); their
        workspaces (holding the applied counts) and the position reached."""
        async with self._writer.begin() as conn:
            targets = {
                p.name: p.table if p.name in in_place else await create_next(conn, p)
                for p in chosen
            }
        spaces = {p.name: Workspace(p, complete=True) for p in chosen}
        if not chosen:
            return spaces, await self.store.last_position()
        types = set(self._types(chosen))
        last = await self.store.last_position()
        position = 0
        # The whole log, filtered here: a rebuild wants nearly every event, and a type
        # filter makes each page re-scan and sort the rest of the log on SQLite. (Reading
        # the next page on a thread meanwhile gains nothing: the reader needs the GIL for
        # every row and the projections hold it.)
        read = page_reader(self.store, self.engine, types)
        names = ", ".join(p.name for p in chosen)
        log.info("rebuilding %s from the log (%d events)", names, last)
        started = time.perf_counter()
        while (page := await read(position, batch_size)) is not None:
            envs, position = page
            await self._apply_rebuild(chosen, spaces, targets, envs)
            if sum(len(ws.rows) for ws in spaces.values()) > max_rows_in_memory:
                for p in chosen:
                    await self._flush(spaces[p.name], targets[p.name])
                log.info("rebuilding %s: at position %d of %d", names, position, last)
            if progress is not None:
                progress(position, max(last, position))
        # The rows go into the new tables before the swap, in short transactions: the new
        # tables are the rebuild's alone until then, and appends, catch-ups and queries
        # carry on meanwhile (SQLite has one writer at a time). PostgreSQL's indexes are
        # built next, once (SQLite's exist already); the swap then holds the lock only for
        # the tail of the log and the renames.
        for p in chosen:
            await self._flush(spaces[p.name], targets[p.name])
        read_s = time.perf_counter() - started
        await index_ahead(self._writer, [p for p in chosen if p.name not in in_place])
        log.info(
            "rebuilt %s up to position %d: %.1f s reading and writing (longest write "
            "transaction %.2f s), %.1f s indexing",
            names,
            position,
            read_s,
            self.longest_write,
            time.perf_counter() - started - read_s,
        )
        return spaces, position

    async def _apply_rebuild(
        self,
        chosen: Sequence[Projection],
        spaces: dict[str, Workspace],
        targets: dict[str, sa.Table],
        envelopes: list[Envelope],
        conn: AsyncConnection | None = None,
        after: dict[str, int] | None = None,
    ) -> None:
        for p in chosen:
            ws = spaces[p.name]
            handled = p.handlers
            since = after[p.name] if after else 0
            envs = [e for e in envelopes if e.type in handled and e.position > since]
            if not ws.complete:
                if conn is None:
                    async with self.engine.connect() as c:
                        await load_missing(c, ws, targets[p.name], envs)
                else:
                    await load_missing(conn, ws, targets[p.name], envs)
            for env in envs:
                try:
                    ws.apply(env)
                except Exception as error:
                    await dead_letters.pending(self._writer, conn, p, env, error)

    async def _flush(self, ws: Workspace, target: sa.Table) -> None:
        """Write a rebuild's changed rows into its new table, a few thousand rows per
        transaction, and drop them from memory (later events load what they need)."""
        keys, inserts = ws.take_changes()
        if not ws.complete:
            keys = ws.stored_keys(keys)  # rows first made since the last flush are not there
            pk = target.c[ws.projection.pk]
            for chunk in chunks(keys):
                async with self._writer.begin() as conn:
                    await conn.execute(sa.delete(target).where(pk.in_(chunk)))
        if inserts:
            sql, ordered, make = lazy_insert_plan(target, inserts, self.engine.dialect)
            del inserts
            at = 0
            while at < len(ordered):
                size = (
                    self._chunk_rows.get(target.name, _FIRST_CHUNK) if self._sqlite else _PG_CHUNK
                )
                chunk = list(map(make, ordered[at : at + size]))
                at += size
                try:
                    started = time.perf_counter()
                    async with self._writer.begin() as conn:
                        if self._sqlite:
                            await conn.exec_driver_sql(sql, chunk)
                        else:
                            await copy_rows(conn, target, chunk)
                    took = time.perf_counter() - started
                    self.longest_write = max(self.longest_write, took)
                    if self._sqlite:
                        # Rows per transaction so that the next takes about _WRITE_SECONDS:
                        # a row costs more as the new table and its indexes grow.
                        self._chunk_rows[target.name] = paced(len(chunk), took, _WRITE_SECONDS)
                        await asyncio.sleep(0.005)  # one writer: a waiting append's turn
                except TRANSIENT:
                    raise
                except Exception:
                    async with self._writer.begin() as conn:
                        await dead_letters.insert_each(conn, ws.projection, target, sql, chunk)
        ws.forget()

    async def _ensure_checkpoints(self, conn: AsyncConnection, names: Sequence[str]) -> None:
        result = await conn.execute(
            sa.select(checkpoints.c.name).where(checkpoints.c.name.in_(names))
        )
        present = set(result.scalars())
        for name in names:
            if name not in present:
                await conn.execute(
                    sa.insert(checkpoints).values(
                        name=name, version=0, position=0, applied_count=0, updated_at=_now()
                    )
                )


def _build_in_worker(
    url: str, schema: str | None, names: list[str], batch_size: int, max_rows_in_memory: int
) -> Built:
    """A worker process's share of a rebuild (``events.rebuild_workers``)."""
    gc.disable()  # as in ``Projector.rebuild``: the process ends when its share is written
    return asyncio.run(_build_here(url, schema, names, batch_size, max_rows_in_memory))


async def _build_here(
    url: str, schema: str | None, names: list[str], batch_size: int, max_rows_in_memory: int
) -> Built:
    engine = create_engine(url, schema=schema)
    store = SqlEventStore(engine)
    try:
        chosen = [p for p in ALL if p.name in names]
        projector = Projector(engine, store, chosen)
        spaces, position = await projector._build(chosen, None, batch_size, max_rows_in_memory)
        return {name: (position, ws.applied) for name, ws in spaces.items()}
    finally:
        await store.close()
        await engine.dispose()
