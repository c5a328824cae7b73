"""``AppServices``: what the API uses of a bootstrapped ``Runtime``.

``AppServices`` exposes the runtime (store, ``CareerService``, projector) and the
read-model queries bound to the runtime's engine (:class:`ReadModelQueries`). Build it with
:func:`runtime_services`, the app's default bootstrap::

    app = create_app(settings, bootstrap=runtime_services)   # lifespan opens and closes it

Resolvers reach it through ``info.context.require_services()``, never a global.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from api.errors import ApiError
from api.settings import Settings
from domain.ladder import Ladder
from domain.serialization import person_stream
from events import dead_letters, timetravel
from events.bundle import build_bundle
from events.migrate import current_revision, head_revision
from events.publisher import CheckpointPublisher, check_tail, read_checkpoint_log
from events.readmodels import api_history, api_queries, api_relations, org_chart, queries, views
from events.readmodels.api_queries import LadderCache
from events.readmodels.rosters import Rosters
from events.readmodels.views import MentorshipView, PersonView, RotationView, TimelineEntry
from events.service import CareerService
from events.sql_store import SqlEventStore
from events.tlog import Checkpoint, CheckpointError, NoteSigner, open_checkpoint, sign_checkpoint

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from events.bootstrap import Runtime


@dataclass(eq=False)
class ReadModelQueries:
    """The read-model queries bound to one engine.

    The ``*_batch`` methods have the shape a DataLoader wants (keys in, one value per key
    out, in order); each runs one SQL statement per batch.
    """

    engine: AsyncEngine
    store: SqlEventStore
    today: Callable[[], date]
    ladder_cache: LadderCache = field(default_factory=LadderCache)
    histories: api_history.CareerHistories = field(init=False)
    rosters: Rosters = field(init=False)

    def __post_init__(self) -> None:
        self.histories = api_history.CareerHistories(self.store)
        self.rosters = Rosters(self.engine)

    # -- batches for DataLoaders ----------------------------------------------------------

    async def people_batch(self, ids: Sequence[str]) -> list[PersonView | None]:
        found = await api_queries.people_by_ids(self.engine, ids, today=self.today())
        return [found.get(i) for i in ids]

    async def ladders_batch(self, tracks: Sequence[str]) -> list[Ladder | None]:
        found = await api_queries.current_ladders(self.engine, tracks, self.ladder_cache)
        return [found.get(t) for t in tracks]

    async def ladders_at(self, versions: Mapping[str, int | None]) -> dict[str, Ladder | None]:
        """Track -> its current ladder, given the latest version a statement just read
        (``None``: none published): from the cache, or for a version this process has not
        parsed yet, read as :meth:`ladders_batch` reads them (one statement)."""
        found = {
            t: None if v is None else self.ladder_cache.known(t, v) for t, v in versions.items()
        }
        missing = [t for t, v in versions.items() if v is not None and found[t] is None]
        if missing:
            found.update(zip(missing, await self.ladders_batch(missing), strict=True))
        return found

    async def mentored_batch(self, mentor_ids: Sequence[str]) -> list[list[MentorshipView]]:
        found = await api_relations.active_mentorships_by_mentor(self.engine, mentor_ids)
        return [found.get(i, []) for i in mentor_ids]

    async def mentoring_batch(self, mentee_ids: Sequence[str]) -> list[list[MentorshipView]]:
        found = await api_relations.active_mentorships_by_mentee(self.engine, mentee_ids)
        return [found.get(i, []) for i in mentee_ids]

    async def mentorship_batch(self, ids: Sequence[str]) -> list[MentorshipView | None]:
        found = await api_relations.mentorships_by_ids(self.engine, ids)
        return [found.get(i) for i in ids]

    async def rotation_batch(self, ids: Sequence[str]) -> list[RotationView | None]:
        found = await api_relations.rotations_by_ids(self.engine, ids)
        return [found.get(i) for i in ids]

    async def active_rotation_batch(self, ids: Sequence[str]) -> list[RotationView | None]:
        found = await api_relations.active_rotations(self.engine, ids)
        return [found.get(i) for i in ids]

    async def timeline_batch(self, ids: Sequence[str]) -> list[list[TimelineEntry]]:
        found = await api_relations.timelines(self.engine, ids)
        return [found.get(i, []) for i in ids]

    async def org_chart_batch(self, days: Sequence[date]) -> list[dict[str, str | None]]:
        """Day -> everyone employed that day and their manager then."""
        return [await org_chart.managers_on(self.engine, day) for day in days]

    async def reports_batch(self, manager_ids: Sequence[str]) -> list[set[str]]:
        return [await self.reports_of(m) for m in manager_ids]

    async def reports_of(self, manager_id: str) -> set[str]:
        """Everyone reporting to ``manager_id``, directly or indirectly (one statement)."""
        return {str(i) for i in await queries.reports_of(self.engine, manager_id)}

    # -- lists and reports ----------------------------------------------------------------

    async def list_people(
        self,
        filters: api_queries.PeopleFilter,
        *,
        limit: int,
        after: api_queries.PeopleKey | None,
        order: api_queries.PeopleOrder = api_queries.PeopleOrder.NAME,
    ) -> list[api_queries.RosterEntry]:
        return await self.rosters.list_people(
            filters, limit=limit, after=after, today=self.today(), order=order
        )

    async def count_people(self, filters: api_queries.PeopleFilter) -> int:
        return await api_queries.count_people(self.engine, filters, today=self.today())

    async def count_mentorships(self, filters: queries.MentorshipFilter) -> int:
        return await queries.count_mentorships(self.engine, filters)

    async def count_rotations(self, filters: queries.RotationFilter) -> int:
        return await queries.count_rotations(self.engine, filters)

    async def count_experience_exceptions(self) -> int:
        return await api_relations.count_experience_exceptions(self.engine)

    async def list_mentorships(
        self,
        filters: queries.MentorshipFilter,
        *,
        limit: int,
        after: tuple[date, str] | None,
    ) -> list[MentorshipView]:
        return await queries.list_mentorships(self.engine, filters, limit=limit, after=after)

    async def list_rotations(
        self,
        filters: queries.RotationFilter,
        *,
        limit: int,
        after: tuple[date, str] | None,
    ) -> list[RotationView]:
        return await queries.list_rotations(self.engine, filters, limit=limit, after=after)

    async def experience_exceptions(
        self, *, limit: int, after: tuple[date, int] | None
    ) -> list[TimelineEntry]:
        return await api_relations.experience_exceptions(self.engine, limit=limit, after=after)

    async def promotion_stats(self) -> views.PromotionStats:
        return await queries.promotion_stats(self.engine)

    async def level_census(
        self, as_of: date | None, known_at: datetime | None
    ) -> dict[tuple[str, str], int]:
        """Today's census from the read model; any other day (or knowledge) from the log."""
        if as_of is None and known_at is None:
            rows = await api_queries.level_census(self.engine, today=self.today())
            return {(r.track, r.level): r.headcount for r in rows}
        on = as_of or self.today()
        return (await timetravel.census_as_of(self.store, on, known_at)).headcount

    async def career_history(
        self, person_id: str, *, as_of: date | None, known_at: datetime | None
    ) -> api_history.CareerHistoryView | None:
        return await self.histories.get(UUID(person_id), as_of=as_of, known_at=known_at)

    async def audit_trail(self, person_id: str) -> api_history.AuditTrail | None:
        return await api_history.audit_trail(self.store, UUID(person_id))


def _utc_today() -> date:
    return datetime.now(UTC).date()


@dataclass
class AppServices:
    """The application's services over a bootstrapped :class:`events.bootstrap.Runtime`:
    what ``/readyz`` asks (:meth:`ready`, :meth:`degraded`) and what resolvers use.

    ``signer`` signs checkpoints (``LADDER_CHECKPOINT_KEY``); without one the API serves
    no checkpoints and no proofs.
    """

    runtime: Runtime
    today: Callable[[], date] = _utc_today
    signer: NoteSigner | None = None
    log_problem: str | None = None
    """Set at start when the log's tail does not hold against the last checkpoint."""
    queries: ReadModelQueries = field(init=False)
    _versions: dict[tuple[str, int], Ladder] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.queries = ReadModelQueries(self.runtime.engine, self.runtime.store, self.today)

    @property
    def store(self) -> SqlEventStore:
        return self.runtime.store

    @property
    def service(self) -> CareerService:
        return self.runtime.service

    async def ready(self) -> bool:
        """The database answers, its migrations are at head and (with a checkpoint log)
        the log held against its last checkpoint at start."""
        if self.log_problem is not None:
            return False
        return await current_revision(self.runtime.engine) == self._head

    async def degraded(self) -> dict[str, int]:
        """Read models with dead letters, and how many (``events.dead_letters``)."""
        return await dead_letters.degraded(self.runtime.engine)

    @cached_property
    def _head(self) -> str:
        return head_revision()

    async def current_ladder(self, track: str) -> Ladder | None:
        """The latest published ladder of ``track``."""
        return (await self.queries.ladders_batch([track]))[0]

    async def ladder_version(self, track: str, version: int) -> Ladder | None:
        """Version ``version`` of ``track``'s ladder.

        Published versions never change, so they are kept for the life of the process.
        """
        if (track, version) not in self._versions:
            for ladder in await self.service.ladder_versions(track):
                self._versions[(track, ladder.version)] = ladder
        return self._versions.get((track, version))

    async def reports_of(self, manager_id: str) -> set[str]:
        """Everyone reporting to ``manager_id`` (``api.auth.ReportsLookup``)."""
        return await self.queries.reports_of(manager_id)

    async def close(self) -> None:
        await self.runtime.close()

    # -- proofs ------------------------------------------------------------------------

    def _require_signer(self) -> NoteSigner:
        if self.signer is None:
            raise ProofsUnavailable("no checkpoint key is configured (LADDER_CHECKPOINT_KEY)")
        return self.signer

    async def sign_head(self) -> tuple[str, Checkpoint]:
        """The log's current tree head, signed now: (signed note, checkpoint)."""
        signer = self._require_signer()
        size, root = await self.store.tree_root()
        checkpoint = Checkpoint(signer.name, size, root, datetime.now(UTC))
        return sign_checkpoint(signer, checkpoint), checkpoint

    async def audit_bundle(
        self, person_id: str, note: str | None
    ) -> tuple[dict[str, Any], Checkpoint]:
        """A person's proof bundle (``events.bundle``) and its checkpoint: ``note`` (a
        checkpoint this log signed) or, by default, the current tree head signed now."""
        signer = self._require_signer()
        if note is None:
            note, checkpoint = await self.sign_head()
        else:
            checkpoint = open_checkpoint(note, signer.verifier())
        stream = person_stream(UUID(person_id))
        return await build_bundle(self.runtime.engine, stream, note, checkpoint), checkpoint

    async def consistency_proof(self, old: int, new: int | None) -> tuple[int, list[bytes]]:
        """(new size, proof that the tree of ``new`` events extends the tree of ``old``)."""
        size = (await self.store.tree_root(new))[0]
        return size, await self.store.consistency_proof(old, size)


_frozen = False


def freeze_startup_heap() -> None:
    """Move what the process holds once it is ready to serve (modules, the schema and its
    plans, the ladders, the bootstrap) out of the cyclic garbage collector's reach, once
    per process: a full collection no longer walks them each time it runs (a served
    read's p99 at 16 connections went from 86 to 17 ms in ``bench.http_bench``;
    ``gc.freeze``: frozen objects are still freed by reference counting)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


@asynccontextmanager
async def runtime_services(settings: Settings) -> AsyncIterator[AppServices]:
    """Bootstrap the runtime on ``settings.database_url`` and close it on exit."""
    from events.bootstrap import bootstrap  # the composition root, loaded when serving

    signer = None
    if settings.checkpoint_key is not None:
        text = await asyncio.to_thread(Path(settings.checkpoint_key).read_text, encoding="utf-8")
        signer = NoteSigner.parse(text)
    runtime = await bootstrap(settings.database_url, max_mentees=settings.max_mentees)
    services = AppServices(runtime, signer=signer)
    relaxed: asyncio.Task[None] | None = None
    try:
        if signer is not None and settings.checkpoint_log is not None:
            path, every = Path(settings.checkpoint_log), settings.checkpoint_interval_ms
            publisher = await publish_checkpoints(services, signer, path, wait=every == 0)
            if publisher is not None and every > 0:
                logger.warning(
                    "checkpoints every %d ms: an append is acknowledged up to %d ms before "
                    "a signed checkpoint covers it",
                    every,
                    every,
                )
                relaxed = asyncio.create_task(publisher.run_every(every / 1000))
        freeze_startup_heap()
        yield services
    finally:
        if relaxed is not None:
            relaxed.cancel()
            await asyncio.gather(relaxed, return_exceptions=True)
        await services.close()


async def publish_checkpoints(
    services: AppServices, signer: NoteSigner, path: Path, *, wait: bool = True
) -> CheckpointPublisher | None:
    """Check the log's tail against the checkpoint log, then sign appends into it: each
    append waits for its checkpoint (``wait``), or the caller runs the relaxed mode.

    A log that does not hold is reported (``log_problem``: ``/readyz`` answers 503 with
    the reason) and nothing is signed over it (None).
    """
    engine, store = services.runtime.engine, services.runtime.store
    publisher = CheckpointPublisher(store, signer, path)
    if await asyncio.to_thread(path.exists):
        try:
            logged = await asyncio.to_thread(read_checkpoint_log, path, signer.verifier())
        except CheckpointError as exc:
            services.log_problem = f"checkpoint log {path}: {exc}"
        else:
            if logged:
                services.log_problem = await check_tail(engine, logged[-1])
                publisher.covered = logged[-1].size
    if services.log_problem is not None:
        logger.error("the event log does not hold: %s", services.log_problem)
        return None
    await publisher.cover((await store.tree_root())[0])
    if wait:
        store.add_listener(publisher)
    return publisher


class ProofsUnavailable(ApiError):
    """The server holds no checkpoint key."""

    code = "PROOFS_UNAVAILABLE"
