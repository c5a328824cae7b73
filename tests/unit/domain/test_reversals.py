"""Given a person's events -> when one of them is read -> what it did to a promotion."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from domain import events as ev
from domain.reversals import ChangeKind, promotion_change

from .helpers import TODAY, given, hired, promoted


def test_a_promotion_is_a_recorded_change_in_force() -> None:
    pid = uuid4()
    promotion = promoted(pid, date(2021, 3, 1), "apm", "pm")
    change = promotion_change(given(hired(pid), promotion), promotion)
    assert change is not None
    assert (change.kind, change.promotion, change.in_force) == (
        ChangeKind.RECORDED,
        promotion,
        True,
    )
    assert change.reason is None


def test_a_correction_carries_the_corrected_promotion_and_the_fields_it_changed() -> None:
    pid = uuid4()
    promotion = promoted(pid, date(2021, 3, 1), "apm", "pm")
    first = ev.EventCorrected(pid, TODAY, promotion.event_id, {"rationale": "led"}, "typo")
    second = ev.EventCorrected(
        pid, TODAY, promotion.event_id, {"effective_on": "2021-02-01"}, "wrong date"
    )
    change = promotion_change(given(hired(pid), promotion, first, second), second)
    assert change is not None
    assert change.kind is ChangeKind.CORRECTED
    assert change.changed_fields == ("effective_on",)
    assert change.promotion.effective_on == date(2021, 2, 1)
    assert change.promotion.rationale == "led"  # every correction so far applies
    assert change.reason == "wrong date"
    assert change.promotion_id == promotion.event_id


def test_a_rescind_says_the_promotion_is_no_longer_in_force_and_why() -> None:
    pid = uuid4()
    promotion = promoted(pid, date(2021, 3, 1), "apm", "pm")
    rescind = ev.EventRescinded(pid, TODAY, promotion.event_id, "recorded by mistake")
    change = promotion_change(given(hired(pid), promotion, rescind), rescind)
    assert change is not None
    assert (change.kind, change.in_force, change.reason) == (
        ChangeKind.RESCINDED,
        False,
        "recorded by mistake",
    )
    assert change.promotion == promotion


def test_fixing_another_kind_of_event_is_no_promotion_change() -> None:
    pid = uuid4()
    hire = hired(pid)
    correction = ev.EventCorrected(pid, TODAY, hire.event_id, {"name": "Ada King"}, "typo")
    assert promotion_change(given(hire, correction), correction) is None
    assert promotion_change(given(hire), hire) is None


def test_a_fix_naming_an_unknown_event_is_no_promotion_change() -> None:
    pid = uuid4()
    rescind = ev.EventRescinded(pid, TODAY, uuid4(), "no such event")
    assert promotion_change(given(hired(pid), rescind), rescind) is None
