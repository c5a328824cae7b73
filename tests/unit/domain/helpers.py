"""Given / when / then helpers for domain tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from uuid import UUID, uuid4

import pytest

from domain import commands as cmd
from domain import events as ev
from domain.errors import LadderError
from domain.ladder import bundled_ladder, default_ladder
from domain.person import DecisionContext, PersonState, decide, fold

TODAY = date(2026, 1, 15)
HIRED_ON = date(2020, 1, 6)
CTX = DecisionContext(
    today=TODAY,
    ladders={"product": default_ladder(), "engineering": bundled_ladder("engineering")},
)


def hired(
    person_id: UUID | None = None,
    *,
    on: date = HIRED_ON,
    level: str = "apm",
    track: str = "product",
    prior_years: float = 0.0,
    name: str = "Ada Lovelace",
) -> ev.PersonHired:
    return ev.PersonHired(
        person_id=person_id or uuid4(),
        effective_on=on,
        name=name,
        email="ada@example.com",
        track=track,
        level=level,
        prior_years=prior_years,
        manager_id=None,
        ladder_version=1,
    )


def promoted(
    person_id: UUID, on: date, from_level: str, to_level: str, exception: str | None = None
) -> ev.PromotionRecorded:
    return ev.PromotionRecorded(
        person_id=person_id,
        effective_on=on,
        track="product",
        from_level=from_level,
        to_level=to_level,
        ladder_version=1,
        rationale="shipped",
        evidence={},
        experience_exception=exception,
    )


def departed(person_id: UUID, on: date) -> ev.PersonDeparted:
    return ev.PersonDeparted(person_id, on, "left for a startup")


def given(*events: ev.PersonEvent) -> PersonState:
    return fold(events)


def when(
    state: PersonState, command: cmd.PersonCommand, ctx: DecisionContext = CTX
) -> list[ev.PersonEvent]:
    return decide(state, command, ctx)


def then_refused(
    state: PersonState, command: cmd.PersonCommand, code: str, ctx: DecisionContext = CTX
) -> LadderError:
    with pytest.raises(LadderError) as caught:
        decide(state, command, ctx)
    assert caught.value.code == code, caught.value.message
    return caught.value


def then_after(state: PersonState, events: Iterable[ev.PersonEvent]) -> PersonState:
    return fold(events, state)


def promote(person_id: UUID, to_level: str, on: date, **kw: object) -> cmd.RecordPromotion:
    return cmd.RecordPromotion(
        person_id=person_id,
        to_level=to_level,
        effective_on=on,
        rationale="led the checkout redesign",
        **kw,  # type: ignore[arg-type]
    )
