"""The promotion workflow's side of ``CareerService``: read what a decision needs, decide
(``domain.promotion_cases``), and say what to append.

* cycle commands: the ``promotioncycles-all`` stream, at the version read;
* a nomination: the new case stream (``NO_STREAM``) and, as a condition without events,
  the cycles stream at the version read, so a cycle opened or closed meanwhile refuses
  the nomination (the service retries against fresh state);
* evidence, reviewers, reviews, withdrawals: the case stream at the version read;
* a decision: the case stream, and for an approval the person's stream with the
  ``PromotionRecorded``, both at the versions read, in one transaction.

"At most one undecided case per person" is checked on the cases read model, as e-mail
uniqueness is on the people read model (two nominations racing for one person within a
moment could both pass; the second one would be withdrawn by HR).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from domain import case_commands as cc
from domain import case_errors as cerr
from domain import case_events as ce
from domain import promotion_cases as pc
from domain.career import ACTIVE
from domain.checks import DecisionContext
from domain.events import DomainEvent
from domain.org_chart import manager_on
from domain.serialization import SCHEMA_VERSIONS, from_data, to_data
from events.port import NO_STREAM, ExpectedVersion, NewEvent, StreamAppend
from events.readmodels.case_queries import open_case_of

if TYPE_CHECKING:
    from events.service import CareerService


def _encode(event: DomainEvent) -> NewEvent:
    name = type(event).__name__
    return NewEvent(name, to_data(event), SCHEMA_VERSIONS[name], event.event_id)


def _expected(version: int) -> ExpectedVersion:
    return NO_STREAM if version == 0 else version


async def load_case(service: CareerService, case_id: UUID) -> pc.CaseState:
    recorded = await service.store.read_stream(ce.case_stream(case_id))
    state = pc.CaseState()
    for r in recorded:
        event = from_data(r.type, r.data, r.event_id)
        if isinstance(event, ce.CASE_EVENT_TYPES):
            state = pc.evolve_case(state, event)
    return state


async def load_cycles(service: CareerService) -> pc.CyclesState:
    recorded = await service.store.read_stream(ce.CYCLES_STREAM)
    state = pc.CyclesState()
    for r in recorded:
        event = from_data(r.type, r.data, r.event_id)
        if isinstance(event, ce.PromotionCycleOpened | ce.PromotionCycleClosed):
            state = pc.evolve_cycles(state, event)
    return state


async def managers_of(
    service: CareerService, person_id: UUID, ctx: DecisionContext
) -> frozenset[UUID]:
    """Everyone above ``person_id`` in the org chart today, from the log."""
    state, _ = await service.load_person(person_id)
    manager = manager_on(state, ctx.today) if state.exists else None
    if manager is None:
        return frozenset()
    return frozenset(await service.manager_chain(manager, ctx.today))


async def employed_among(service: CareerService, ids: tuple[UUID, ...]) -> frozenset[UUID]:
    """Those of ``ids`` who are people employed now (at most ``MAX_REVIEWERS`` reads)."""
    found: set[UUID] = set()
    for person_id in ids[: pc.MAX_REVIEWERS]:
        state, _ = await service.load_person(person_id)
        if state.exists and state.career.status == ACTIVE:
            found.add(person_id)
    return frozenset(found)


async def decide_workflow(
    service: CareerService,
    command: cc.PromotionWorkflowCommand,
    ctx: DecisionContext,
    expected_version: int | None,
) -> list[StreamAppend]:
    """The appends ``command`` makes; raises ``LadderError`` when a rule refuses it.
    ``expected_version`` (the client's) applies to the case stream (cycles: theirs)."""
    cycles = await load_cycles(service)
    if isinstance(command, cc.OpenPromotionCycle | cc.ClosePromotionCycle):
        employed = await employed_among(service, getattr(command, "reviewer_ids", ()))
        events = pc.decide_cycle(cycles, command, ctx, employed=employed)
        version = cycles.version if expected_version is None else expected_version
        return [StreamAppend(ce.CYCLES_STREAM, [_encode(e) for e in events], _expected(version))]
    case = await load_case(service, command.case_id)
    case_version = case.version if expected_version is None else expected_version
    stream = ce.case_stream(command.case_id)
    if isinstance(command, cc.NominateForPromotion):
        person, _ = await service.load_person(command.person_id)
        nominated = pc.decide_nomination(
            case,
            person,
            cycles,
            command,
            ctx,
            managers=await managers_of(service, command.person_id, ctx),
            open_case=await open_case_of(service.readmodels, str(command.person_id)),
        )
        return [
            StreamAppend(stream, [_encode(nominated)], _expected(case_version)),
            StreamAppend(ce.CYCLES_STREAM, [], _expected(cycles.version)),
        ]
    if isinstance(command, cc.DecidePromotion):
        person_id = case.person_id
        if person_id is None:
            raise cerr.PromotionCaseNotFound(
                f"no promotion case {command.case_id}", ids={"caseId": command.case_id}
            )
        person, person_version = await service.load_person(person_id)
        case_events, person_events = pc.decide_decision(case, person, command, ctx)
        appends = [StreamAppend(stream, [_encode(e) for e in case_events], _expected(case_version))]
        if person_events:
            appends.append(
                StreamAppend(
                    f"person-{person_id}",
                    [_encode(e) for e in person_events],
                    _expected(person_version),
                )
            )
        return appends
    managers: frozenset[UUID] = frozenset()
    areas: frozenset[str] = frozenset()
    if case.person_id is not None:
        managers = await managers_of(service, case.person_id, ctx)
        ladder = ctx.ladders.get(case.track)
        areas = frozenset(a.key for a in ladder.development_areas) if ladder else frozenset()
    employed = await employed_among(service, getattr(command, "reviewer_ids", ()))
    event = pc.decide_case(
        case, cycles, command, ctx, managers=managers, areas=areas, employed=employed
    )
    return [StreamAppend(stream, [_encode(event)], _expected(case_version))]
