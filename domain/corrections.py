"""Corrections and rescinds: fixing the record without rewriting it.

Only career facts of the same person can be corrected or rescinded (see
``domain.events.CAREER_FACT_TYPES``). A correction names fields of the target and their new JSON
values; it must parse, keep the types of the fields, and leave a career that still makes
sense: the corrected (or rescinded) timeline is folded again with ``derive_career`` and
any problem it did not have before refuses the command. A hire cannot be rescinded (the
person's stream would have no beginning); correct it instead.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any
from uuid import UUID

from domain import checks, errors
from domain import commands as cmd
from domain import events as ev
from domain.career import CareerFact, derive_career
from domain.checks import DecisionContext
from domain.serialization import to_data
from domain.state import IDENTITY_FIELDS, PersonState, apply_changes, evolve

EXPERIENCE_TOLERANCE = 1e-9
_REQUIRED_TEXTS = ("name", "rationale", "reason", "outcome", "program", "host_team")


def _target(state: PersonState, person_id: UUID, target_id: UUID) -> CareerFact:
    checks.existing(state, person_id)
    ids = {"personId": person_id, "targetEventId": target_id}
    fact = state.corrected_facts.get(target_id)
    if fact is None:
        if state.knows(target_id):
            raise errors.InvalidCorrection(
                "only career facts can be corrected or rescinded (not mentorship events, "
                "corrections or rescinds)",
                field="targetEventId",
                ids=ids,
            )
        raise errors.EventNotFound(f"no event {target_id} in the stream of {person_id}", ids=ids)
    if target_id in state.rescinded_ids:
        raise errors.InvalidCorrection(
            f"event {target_id} was rescinded", field="targetEventId", ids=ids
        )
    return fact


def _new_problems(
    state: PersonState, replaced: dict[UUID, CareerFact], ctx: DecisionContext
) -> list[str]:
    """Problems the timeline would have after the change and does not have now."""

    def problems(facts: dict[UUID, CareerFact]) -> list[str]:
        found: list[str] = []
        order = state.recorded_order
        pairs = [(order[i], f) for i, f in facts.items()]
        derive_career(pairs, ladders=ctx.ladders, problems=found)
        return found

    before = set(problems(state.facts))
    return [p for p in problems(replaced) if p not in before]


def decide_correction(
    state: PersonState, c: cmd.CorrectEvent, ctx: DecisionContext
) -> ev.EventCorrected:
    target = _target(state, c.person_id, c.target_event_id)
    ids = {"personId": c.person_id, "targetEventId": c.target_event_id}
    reason = checks.text(c.reason, "reason")
    if not c.changes:
        raise errors.InvalidCorrection("a correction must change at least one field", ids=ids)
    allowed = set(to_data(target)) - IDENTITY_FIELDS
    unknown = sorted(set(c.changes) - allowed)
    if unknown:
        raise errors.InvalidCorrection(
            f"{type(target).__name__} has no correctable fields {', '.join(unknown)} "
            f"(correctable: {', '.join(sorted(allowed))})",
            ids=ids,
        )
    corrected = apply_changes(target, c.changes)
    if corrected is None:
        raise errors.InvalidCorrection("the changes do not parse as the event's fields", ids=ids)
    bad_types = type_problems(corrected)
    if bad_types:
        raise errors.InvalidCorrection("; ".join(bad_types), ids=ids)
    if corrected == target:
        raise errors.InvalidCorrection("the changes leave the event as it is", ids=ids)
    checks.not_too_far_ahead(corrected.effective_on, ctx, date_field="changes", ids=ids)
    _check_content(corrected, ids)
    replaced = {**state.facts, corrected.event_id: corrected}
    problems = _new_problems(state, replaced, ctx)
    if isinstance(corrected, ev.PromotionRecorded) and not corrected.experience_exception:
        problems += _experience_problems(state, replaced, corrected, ctx)
    if problems:
        raise errors.InvalidCorrection(
            "the corrected career would not hold: " + "; ".join(problems), ids=ids
        )
    return ev.EventCorrected(
        person_id=c.person_id,
        effective_on=ctx.today,
        target_event_id=c.target_event_id,
        changes=dict(c.changes),
        reason=reason,
    )


def decide_rescind(
    state: PersonState, c: cmd.RescindEvent, ctx: DecisionContext
) -> ev.EventRescinded:
    fix = _fix(state, c.target_event_id)
    if fix is not None:
        return _withdraw(state, c, fix, ctx)
    target = _target(state, c.person_id, c.target_event_id)
    ids = {"personId": c.person_id, "targetEventId": c.target_event_id}
    reason = checks.text(c.reason, "reason")
    if isinstance(target, ev.PersonHired):
        raise errors.InvalidCorrection(
            "a hire cannot be rescinded; correct it instead", field="targetEventId", ids=ids
        )
    remaining = {i: f for i, f in state.facts.items() if i != c.target_event_id}
    problems = _new_problems(state, remaining, ctx)
    if problems:
        raise errors.InvalidCorrection(
            "without this event the career would not hold: " + "; ".join(problems), ids=ids
        )
    return ev.EventRescinded(
        person_id=c.person_id,
        effective_on=ctx.today,
        target_event_id=c.target_event_id,
        reason=reason,
    )


def _fix(state: PersonState, event_id: UUID) -> ev.EventCorrected | ev.EventRescinded | None:
    """The correction or rescind of this stream with that id, if there is one."""
    for correction in state.corrections:
        if correction.event_id == event_id:
            return correction
    for rescind in state.rescinds:
        if rescind.event_id == event_id:
            return rescind
    return None


def _withdraw(
    state: PersonState,
    c: cmd.RescindEvent,
    fix: ev.EventCorrected | ev.EventRescinded,
    ctx: DecisionContext,
) -> ev.EventRescinded:
    """Rescinding a correction withdraws it; rescinding a rescind undoes the rescission."""
    checks.existing(state, c.person_id)
    ids = {"personId": c.person_id, "targetEventId": c.target_event_id}
    reason = checks.text(c.reason, "reason")
    if fix.event_id in state.withdrawn_ids:
        raise errors.InvalidCorrection(
            f"{c.target_event_id} was already withdrawn", field="targetEventId", ids=ids
        )
    if isinstance(fix, ev.EventRescinded) and fix.fact_event_id is not None:
        raise errors.InvalidCorrection(
            "a withdrawal is final: correct or rescind the fact again instead",
            field="targetEventId",
            ids=ids,
        )
    withdrawal = ev.EventRescinded(
        person_id=c.person_id,
        effective_on=ctx.today,
        target_event_id=fix.event_id,
        reason=reason,
        fact_event_id=fix.target_event_id,
    )
    problems = _new_problems(state, evolve(state, withdrawal).facts, ctx)
    if problems:
        raise errors.InvalidCorrection(
            "without this fix the career would not hold: " + "; ".join(problems), ids=ids
        )
    return withdrawal


def _check_content(fact: CareerFact, ids: dict[str, UUID]) -> None:
    """The input rules of the command that recorded ``fact``, applied to its new values."""
    try:
        for name in _REQUIRED_TEXTS:
            if hasattr(fact, name):
                checks.text(getattr(fact, name), name)
        if isinstance(fact, ev.PersonHired):
            checks.text(fact.name, "name", max_len=checks.MAX_NAME)
            checks.email(fact.email)
            checks.prior_years(fact.prior_years)
            checks.not_self_managed(fact.person_id, fact.manager_id)
        elif isinstance(fact, ev.RoleRotationStarted) and fact.planned_end_on < fact.effective_on:
            raise errors.InvalidInput("the planned end is before the start", field="plannedEndOn")
        elif isinstance(fact, ev.ManagerChanged | ev.PersonRehired):
            checks.not_self_managed(fact.person_id, fact.manager_id)
    except errors.InvalidInput as exc:
        raise errors.InvalidCorrection(exc.message, ids=ids) from exc


def _experience_problems(
    state: PersonState,
    facts: dict[UUID, CareerFact],
    promotion: ev.PromotionRecorded,
    ctx: DecisionContext,
) -> list[str]:
    ladder = ctx.ladders.get(promotion.track)
    if ladder is None or not ladder.has_level(promotion.to_level):
        return []
    order = state.recorded_order
    career = derive_career([(order[i], f) for i, f in facts.items()])
    years = career.years_of_experience(promotion.effective_on)
    minimum = ladder.level(promotion.to_level).min_years
    if years + EXPERIENCE_TOLERANCE >= minimum:
        return []
    return [
        f"{years:.1f} years of experience on {promotion.effective_on}, {promotion.to_level!r} "
        f"needs {minimum}, and no experience exception"
    ]


def type_problems(event: object) -> list[str]:
    """Fields whose values do not have the declared type (after JSON decoding)."""
    problems: list[str] = []
    for name, check in _type_checks(type(event)):
        value = getattr(event, name)
        if not check(value):
            problems.append(f"{name}: {value!r} has the wrong type")
    return problems


Check = Callable[[Any], bool]


def _is(kind: type) -> Check:
    if kind is float:
        return lambda v: isinstance(v, int | float) and not isinstance(v, bool)
    if kind is int:
        return lambda v: isinstance(v, int) and not isinstance(v, bool)
    return lambda v: isinstance(v, kind)


def _optional(inner: Check) -> Check:
    return lambda v: v is None or inner(v)


def _strings(v: Any) -> bool:
    return isinstance(v, tuple) and all(isinstance(x, str) for x in v)


def _string_values(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(x, str) for x in v.values())


_TYPE_CHECKS: dict[type, tuple[tuple[str, Check], ...]] = {}


def _type_checks(cls: type) -> tuple[tuple[str, Check], ...]:
    cached = _TYPE_CHECKS.get(cls)
    if cached is not None:
        return cached
    found: list[tuple[str, Check]] = []
    for name, hint in typing.get_type_hints(cls).items():
        args = typing.get_args(hint)
        origin = typing.get_origin(hint)
        if type(None) in args:
            found.append((name, _optional(_is(next(a for a in args if a is not type(None))))))
        elif origin is tuple:
            found.append((name, _strings))
        elif origin is dict and args[1] is str:
            found.append((name, _string_values))
        elif origin is None and isinstance(hint, type):
            found.append((name, _is(hint)))
    _TYPE_CHECKS[cls] = tuple(found)
    return _TYPE_CHECKS[cls]
