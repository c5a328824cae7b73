"""Application service: load the streams, decide, append with the expected version.

Every write of the product goes through ``CareerService.execute``: the API's mutations
and the imports (``ladder demo`` appends a sample org decided in memory the way this
service appends, one command per append: ``events.sample``). It keeps ``domain`` pure
(no I/O there) and ``api`` thin (no rules there).

Concurrency: the service appends with the version it read. When another writer got in
first, the store raises ``WrongExpectedVersion``; the service rereads and decides again,
a bounded number of times, so a conflict is either resolved against fresh state or
refused by the rules -- never a lost or doubled write. A caller that passes its own
``expected_version`` gets the conflict back instead of a retry.

Idempotency: a command carrying an idempotency key already recorded returns the original
result without deciding again (deciding again could refuse, e.g. "already hired"), as long
as that result holds the event this command is named for in the stream it is judged
against; otherwise the key was used for another operation (``IdempotencyKeyReused``).

What a write means is decided here, not by its caller: ``CommandResult`` names the stream
the command was judged against (``judged_stream``), the event it is named for
(``domain.command_events``) and that stream's version, so the API only reports it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from domain import case_commands as cc
from domain import case_events as ce
from domain import commands as c
from domain.checks import DecisionContext
from domain.command_events import AnyCommand
from domain.errors import InvalidInput, LadderError
from domain.events import DomainEvent, LadderPublished, MentorshipEnded, MentorshipStarted
from domain.ladder import Ladder
from domain.ladder_versions import decide_ladder, decide_level_mapping
from domain.mentoring import decide_mentorship, decide_mentorship_correction, mentorship_target
from domain.org_chart import MAX_CHAIN, check_manager, manager_on, manager_set_by
from domain.personal_data import PersonalDataAlreadyErased
from domain.rules import decide
from domain.serialization import SCHEMA_VERSIONS, from_data, to_data
from domain.state import PersonState
from domain.text import unstorable
from events.conditions import AppendCondition
from events.errors import IdempotencyKeyReused, WrongExpectedVersion
from events.idempotency import read_positions
from events.port import NO_STREAM, EventStore, Metadata, NewEvent, RecordedEvent, StreamAppend
from events.promotion_workflow import decide_workflow
from events.readmodels.emails import EmailFree
from events.readmodels.occupancy import people_on_levels
from events.readmodels.queries import level_census
from events.results import AppendResult, CommandResult, named_event
from events.sealing import Sealer
from events.timetravel import fold_recorded

log = logging.getLogger(__name__)

LADDER_PUBLISHED = "LadderPublished"


def person_stream(person_id: UUID) -> str:
    return f"person-{person_id}"


def ladder_stream(track: str) -> str:
    return f"ladder-{track}"


def judged_stream(command: AnyCommand) -> str:
    """The stream ``command`` is judged against: ``expected_version`` applies to it and
    the event the command is named for is recorded in it. A mentorship is judged against
    the mentee's stream, a correction against the stream of the person it names."""
    if isinstance(command, cc.OpenPromotionCycle | cc.ClosePromotionCycle):
        return ce.CYCLES_STREAM
    if isinstance(command, cc.PromotionWorkflowCommand):
        return ce.case_stream(command.case_id)
    if isinstance(command, c.PublishLadder):
        return ladder_stream(command.ladder.track)
    if isinstance(command, c.StartMentorship):
        return person_stream(command.mentee_id)
    return person_stream(command.person_id)


def decode(recorded: RecordedEvent) -> DomainEvent:
    """A recorded event as its domain dataclass."""
    return from_data(recorded.type, recorded.data, recorded.event_id)


def encode(event: DomainEvent) -> NewEvent:
    name = type(event).__name__
    return NewEvent(
        type=name,
        data=to_data(event),
        schema_version=SCHEMA_VERSIONS[name],
        event_id=event.event_id,
    )


def refuse_unstorable(appends: Sequence[StreamAppend]) -> None:
    """The last line of input hygiene: no event whose data a backend cannot store (a NUL,
    an unpaired surrogate) is appended, whatever command made it."""
    for append in appends:
        for event in append.events:
            found = unstorable(event.data)
            if found is not None:
                path, why = found
                field = _camel(path.split(".", 1)[0]) if path else None
                raise InvalidInput(f"{field or 'a value'} {why}", field=field)


def _accepted(command: AnyCommand, events: tuple[RecordedEvent, ...]) -> CommandResult:
    """The result of a write that just happened."""
    event = named_event(command, events, judged_stream(command))
    if event is None:  # a decision always records its named event: a bug, not a refusal
        raise RuntimeError(f"{type(command).__name__} wrote no event it is named for")
    return CommandResult(event, events)


def _replayed(
    command: AnyCommand, events: tuple[RecordedEvent, ...], made_up_id: bool
) -> CommandResult:
    """The first result of a repeated idempotency key, if it is this command's: it holds
    the event the command is named for, in the stream it is judged against (any stream
    of that event when the command's new id was made up per request)."""
    event = named_event(command, events, None if made_up_id else judged_stream(command))
    if event is None:
        raise IdempotencyKeyReused()
    return CommandResult(event, events, replayed=True)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class CareerService:
    """Runs commands against the log. One instance per process is enough."""

    def __init__(
        self,
        store: EventStore,
        readmodels: AsyncEngine,
        *,
        sealer: Sealer | None,
        max_mentees: int = 5,
        max_retries: int = 10,
        backoff: float = 0.005,
        today: Callable[[], date] | None = None,
        after_append: Callable[[Sequence[RecordedEvent]], Awaitable[None]] | None = None,
    ) -> None:
        self.store = store
        self.readmodels = readmodels
        """The read models' database (who is on a level, who has an address)."""
        self.sealer = sealer
        """Opens sealed addresses when the store checks one is free (``events.sealing``)."""
        self.max_mentees = max_mentees
        self.max_retries = max_retries
        self.backoff = backoff
        self._today = today or (lambda: datetime.now(UTC).date())
        self._after_append = after_append
        self._ladders: tuple[int, dict[str, Ladder]] | None = None
        self.on_erased: Callable[[UUID], Awaitable[None]] | None = None
        """Awaited after an erasure is recorded (and when one is asked for again): destroys
        the person's key and scrubs the read models (``events.erasure``)."""

    # -- reading what decisions need --------------------------------------------------

    async def load_person(self, person_id: UUID) -> tuple[PersonState, int]:
        recorded = await self.store.read_stream(person_stream(person_id))
        state = fold_recorded(recorded)
        return state, (recorded[-1].version if recorded else 0)

    async def ladders(self) -> dict[str, Ladder]:
        """The current published ladder of every track.

        Kept for the process: the log is asked only for the position of its last
        ``LadderPublished`` (one index lookup), and the ladders are read and parsed again
        only when that moved (a publish here or in any other process)."""
        last = await self.store.last_position_of(LADDER_PUBLISHED)
        if self._ladders is not None and self._ladders[0] == last:
            return self._ladders[1]
        published = await self.store.read_all(0, limit=1_000_000, types=[LADDER_PUBLISHED])
        current: dict[str, Ladder] = {}
        for r in published:
            event = decode(r)
            if isinstance(event, LadderPublished):
                current[event.track] = Ladder.from_dict(event.ladder)
        reached = published[-1].position if published else 0
        self._ladders = (reached, current)
        return current

    async def ladder_versions(self, track: str) -> list[Ladder]:
        recorded = await self.store.read_stream(ladder_stream(track))
        out: list[Ladder] = []
        for r in recorded:
            event = decode(r)
            if isinstance(event, LadderPublished):
                out.append(Ladder.from_dict(event.ladder))
        return out

    async def manager_chain(self, manager_id: UUID, on: date) -> dict[UUID, PersonState]:
        """The states of ``manager_id`` and of everyone above them on ``on``, by id."""
        return {pid: state for pid, (state, _) in (await self._chain(manager_id, on)).items()}

    async def _chain(self, manager_id: UUID, on: date) -> dict[UUID, tuple[PersonState, int]]:
        """``manager_chain`` with the stream version each state was read at."""
        chain: dict[UUID, tuple[PersonState, int]] = {}
        current: UUID | None = manager_id
        while current is not None and current not in chain and len(chain) < MAX_CHAIN:
            state, version = await self.load_person(current)
            chain[current] = (state, version)
            current = manager_on(state, on) if state.exists else None
        return chain

    async def context(self) -> DecisionContext:
        return DecisionContext(
            today=self._today(), ladders=await self.ladders(), max_mentees=self.max_mentees
        )

    # -- writing ------------------------------------------------------------------------

    async def execute(
        self,
        command: AnyCommand,
        *,
        metadata: Metadata | None = None,
        expected_version: int | None = None,
        made_up_id: bool = False,
    ) -> CommandResult:
        """Decide ``command`` against fresh state and append what it produces.

        ``expected_version`` applies to the stream the command is judged against
        (``judged_stream``). ``made_up_id``: the id of what the command creates (a hire's
        person, a nomination's case, a cycle) was made up for this request, not chosen by
        the caller; a repeat of its idempotency key then answers about the first call's
        person, case or cycle instead of requiring the same id.

        Raises ``domain.errors.LadderError`` when a rule refuses it,
        ``WrongExpectedVersion`` on a conflict with ``expected_version`` (or when the
        retries run out) and ``IdempotencyKeyReused`` when ``metadata``'s key was first
        used for another operation; nothing is written then.
        """
        result = await self._execute(command, metadata, expected_version, made_up_id)
        if isinstance(command, c.ErasePersonalData) and self.on_erased is not None:
            await self.on_erased(command.person_id)
        return result

    async def _execute(
        self,
        command: AnyCommand,
        metadata: Metadata | None,
        expected_version: int | None,
        made_up_id: bool,
    ) -> CommandResult:
        meta = metadata or Metadata()
        if (replay := await self._replay(meta)) is not None:
            return _replayed(command, replay, made_up_id)
        attempts = self.max_retries
        for attempt in range(1, attempts + 1):
            appends: list[StreamAppend] = []
            try:
                appends = await self._decide(command, expected_version)
                refuse_unstorable(appends)
                appended = await self.store.write(
                    appends, metadata=meta, conditions=self._conditions(command)
                )
            except PersonalDataAlreadyErased:
                # The first erasure may have stopped before its key was destroyed.
                if isinstance(command, c.ErasePersonalData) and self.on_erased is not None:
                    await self.on_erased(command.person_id)
                raise
            except LadderError:
                # An identical request may have won the race since the check above: its
                # result is this request's result, not a refusal.
                if (replay := await self._replay(meta)) is not None:
                    return _replayed(command, replay, made_up_id)
                raise
            except WrongExpectedVersion as conflict:
                if (replay := await self._replay(meta)) is not None:
                    return _replayed(command, replay, made_up_id)
                # Only a stream the decision merely read (a check, no events) moved: the
                # client's own expectedVersion still holds, so decide again as for anyone.
                checked_only = conflict.stream in {a.stream for a in appends if not a.events}
                if attempt >= attempts or (expected_version is not None and not checked_only):
                    if expected_version is None or checked_only:
                        conflict.field = None  # not the client's expectedVersion
                    raise
                log.info("conflict on %s, retrying (%d)", type(command).__name__, attempt)
                # Jittered exponential back-off, so a burst on one stream spreads out
                # instead of colliding again on the very next round.
                await asyncio.sleep(random.uniform(0, self.backoff * 2**attempt))  # noqa: S311
                continue
            if appended.replayed:  # an identical request won the race to the append lock
                events = await read_positions(self.store, appended.positions)
                return _replayed(command, tuple(events), made_up_id)
            if not appended.projected:
                await self._read_your_writes(appended.events)
            return _accepted(command, appended.events)
        raise AssertionError("unreachable")  # pragma: no cover

    async def execute_appends(
        self,
        appends: Sequence[StreamAppend],
        *,
        metadata: Metadata,
        conditions: Sequence[AppendCondition] = (),
    ) -> AppendResult:
        """Append streams decided by a bulk workflow (``events.onboarding``), all in one
        transaction or none; a repeat of ``metadata``'s idempotency key answers the first
        result. Raises ``WrongExpectedVersion`` when a stream moved since it was judged,
        or what a condition raises (checked under the append lock)."""
        if (replay := await self._replay(metadata)) is not None:
            return AppendResult(replay, replayed=True)
        refuse_unstorable(appends)
        appended = await self.store.write(appends, metadata=metadata, conditions=conditions)
        if appended.replayed:
            return AppendResult(
                tuple(await read_positions(self.store, appended.positions)), replayed=True
            )
        if not appended.projected:
            await self._read_your_writes(appended.events)
        return AppendResult(appended.events)

    async def replayed(self, metadata: Metadata) -> AppendResult | None:
        """What ``metadata``'s idempotency key first wrote, if it was used."""
        replay = await self._replay(metadata)
        return None if replay is None else AppendResult(replay, replayed=True)

    async def _read_your_writes(self, events: Sequence[RecordedEvent]) -> None:
        """Bring the read models up to the append. The events are committed: a failure
        here is logged, never reported as the command's (a client would retry a write
        that happened); the read models catch up on the next append or wake-up."""
        if self._after_append is None:
            return
        try:
            await self._after_append(events)
        except Exception:
            log.exception("read models did not catch up after an append")

    async def _replay(self, meta: Metadata) -> tuple[RecordedEvent, ...] | None:
        """The events ``meta``'s idempotency key first wrote, if it was used."""
        if meta.idempotency_key is None:
            return None
        known = await self.store.known_positions(meta.idempotency_key)
        if known is None:
            return None
        return tuple(await read_positions(self.store, known))

    def _conditions(self, command: AnyCommand) -> list[EmailFree]:
        """What the store checks again under its append lock: an address a command gives
        someone is still no one else's (two racing hires cannot both take it)."""
        if isinstance(command, c.HirePerson):
            return [EmailFree(command.email, command.person_id, self.sealer)]
        if isinstance(command, c.CorrectEvent) and isinstance(command.changes.get("email"), str):
            return [EmailFree(str(command.changes["email"]), command.person_id, self.sealer)]
        return []

    async def _decide(
        self, command: AnyCommand, expected_version: int | None
    ) -> list[StreamAppend]:
        if isinstance(command, c.PersonCommand):
            return await self._decide_for_person(command, expected_version)
        ctx = await self.context()
        if isinstance(command, cc.PromotionWorkflowCommand):
            return await decide_workflow(self, command, ctx, expected_version)
        if isinstance(command, c.PublishLadder):
            track = command.ladder.track
            versions = await self.ladder_versions(track)
            occupied: dict[str, int] = {}
            if versions:  # a first version strands no one (and may precede the read models)
                census = await level_census(self.readmodels, track=track)
                occupied = {entry.level: entry.headcount for entry in census}
            events: Sequence[DomainEvent] = decide_ladder(
                versions[-1] if versions else None, command, ctx, occupied
            )
            ladder_append = StreamAppend(
                ladder_stream(track),
                [encode(e) for e in events],
                expected_version if expected_version is not None else len(versions),
            )
            return [ladder_append, *await self._level_moves(events)]
        return await self._decide_mentorship(command, ctx, expected_version)

    async def _decide_for_person(
        self, command: c.PersonCommand, expected_version: int | None
    ) -> list[StreamAppend]:
        """A command judged against one person's stream. The stream and the decision
        context are read concurrently (two reader threads, or two connections)."""
        person_id = command.person_id
        (state, version), ctx = await asyncio.gather(self.load_person(person_id), self.context())
        if isinstance(command, c.CorrectEvent):
            target = mentorship_target(state, command.target_event_id)
            if target is not None:  # one fact in two streams: corrected in both
                return await self._correct_mentorship(command, target, ctx, expected_version)
        events = decide(state, command, ctx)
        # An address the command gives (``email_set_by``) is checked once, by the
        # ``EmailFree`` condition under the append lock (``_conditions``): a check here
        # would only ask the same question earlier, and could not settle a race.
        checked: list[StreamAppend] = []
        if (named := manager_set_by(state, command)) is not None:
            person, manager, on = named
            chain = await self._chain(manager, on)
            check_manager(person, manager, on, {pid: st for pid, (st, _) in chain.items()})
            # The decision read the chain above the new manager: it holds only if none of
            # those streams moved (two changes racing to close a cycle each read the
            # other's stream, so the second to commit is refused and decided again).
            checked = [
                StreamAppend(person_stream(pid), [], NO_STREAM if read == 0 else read)
                for pid, (_, read) in chain.items()
                if pid != person_id
            ]
        expected = version if expected_version is None else expected_version
        return [
            StreamAppend(
                person_stream(person_id),
                [encode(e) for e in events],
                NO_STREAM if expected == 0 else expected,
            ),
            *checked,
        ]

    async def _level_moves(self, events: Sequence[DomainEvent]) -> list[StreamAppend]:
        """The ``LevelMapped`` of everyone a published version's mapping moves, one stream
        each, to be appended with the version itself (all or nothing)."""
        moves: list[StreamAppend] = []
        for published in events:
            if not isinstance(published, LadderPublished) or not published.level_mapping:
                continue
            engine = self.readmodels
            mapped = list(published.level_mapping)
            for person_id in await people_on_levels(engine, published.track, mapped):
                state, version = await self.load_person(person_id)
                moved = decide_level_mapping(state, published)
                if moved is not None:
                    moves.append(StreamAppend(person_stream(person_id), [encode(moved)], version))
        return moves

    async def _correct_mentorship(
        self,
        command: c.CorrectEvent,
        target: MentorshipStarted | MentorshipEnded,
        ctx: DecisionContext,
        expected_version: int | None,
    ) -> list[StreamAppend]:
        mentor, mentor_version = await self.load_person(target.mentor_id)
        mentee, mentee_version = await self.load_person(target.mentee_id)
        mentor_events, mentee_events = decide_mentorship_correction(mentor, mentee, command, ctx)
        if expected_version is not None:
            if command.person_id == target.mentor_id:
                mentor_version = expected_version
            else:
                mentee_version = expected_version
        return [
            StreamAppend(
                person_stream(target.mentor_id), [encode(e) for e in mentor_events], mentor_version
            ),
            StreamAppend(
                person_stream(target.mentee_id), [encode(e) for e in mentee_events], mentee_version
            ),
        ]

    async def _decide_mentorship(
        self,
        command: c.StartMentorship | c.EndMentorship,
        ctx: DecisionContext,
        expected_version: int | None,
    ) -> list[StreamAppend]:
        if isinstance(command, c.StartMentorship):
            mentor_id, mentee_id = command.mentor_id, command.mentee_id
        else:
            mentee_id = command.person_id
            mentee_state, _ = await self.load_person(mentee_id)
            mentor_id = mentee_state.mentor_of(command.mentorship_id) or mentee_id
        mentor, mentor_version = await self.load_person(mentor_id)
        mentee, mentee_version = await self.load_person(mentee_id)
        mentor_events, mentee_events = decide_mentorship(mentor, mentee, command, ctx)
        if expected_version is not None:
            mentee_version = expected_version
        return [
            StreamAppend(
                person_stream(mentor_id),
                [encode(e) for e in mentor_events],
                NO_STREAM if mentor_version == 0 else mentor_version,
            ),
            StreamAppend(
                person_stream(mentee_id),
                [encode(e) for e in mentee_events],
                NO_STREAM if mentee_version == 0 else mentee_version,
            ),
        ]
