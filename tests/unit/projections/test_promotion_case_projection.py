"""The promotion case and cycle rows follow their streams; batches equal a replay."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from domain import case_events as ce
from events.projections import promotion_cases, promotion_cycles, replay
from events.projections.base import Envelope
from tests.unit.projections.test_projections import incrementally

PERSON, CASE, CYCLE, REVIEWER, PROMOTION = uuid4(), uuid4(), uuid4(), uuid4(), uuid4()
ON = date(2026, 1, 15)


def _stream() -> list[Envelope]:
    events: list[ce.CaseEvent | ce.CycleEvent] = [
        ce.PromotionCycleOpened(CYCLE, "H1", ON, (str(REVIEWER),), "hr-1"),
        ce.PromotionNominated(
            CASE,
            PERSON,
            "product",
            "apm",
            "pm",
            1,
            "ships",
            {"analytics": "funnel"},
            "m",
            ON,
            CYCLE,
        ),
        ce.PromotionEvidenceAdded(CASE, PERSON, "analytics", "cohorts", "m"),
        ce.PromotionEvidenceAdded(CASE, PERSON, "ux_design", "study", "m"),
        ce.PromotionReviewersNamed(CASE, PERSON, ("r2",), "hr-1"),
        ce.PromotionReviewed(CASE, PERSON, str(REVIEWER), "YES", "good"),
        ce.PromotionReviewed(CASE, PERSON, str(REVIEWER), "STRONG_YES", "better"),
        ce.PromotionApproved(CASE, PERSON, ON, PROMOTION, "hr-1"),
        ce.PromotionCycleClosed(CYCLE, "hr-1"),
    ]
    at = datetime(2026, 1, 15, tzinfo=UTC)
    return [
        Envelope.wrap(e, position=i, stream="s-x", version=i, recorded_at=at)
        for i, e in enumerate(events, start=1)
    ]


STREAM = _stream()


def stream() -> list[Envelope]:
    return STREAM


def test_a_case_row_holds_its_evidence_latest_reviews_and_decision() -> None:
    [row] = replay(promotion_cases, stream()).values()
    assert row["status"] == "APPROVED"
    assert row["evidence"] == {"analytics": ["funnel", "cohorts"], "ux_design": ["study"]}
    assert row["reviews"] == {str(REVIEWER): {"recommendation": "STRONG_YES", "comment": "better"}}
    assert row["reviewers"] == ",r2,"
    assert (row["cycle_id"], row["effective_on"], row["nominated_position"]) == (str(CYCLE), ON, 2)


def test_a_cycle_row_closes() -> None:
    [row] = replay(promotion_cycles, stream()).values()
    assert (row["open"], row["reviewers"]) == (False, f",{REVIEWER},")


@pytest.mark.parametrize("batch", [1, 2, 3, 5])
def test_applying_case_events_in_batches_equals_replaying(batch: int) -> None:
    for projection in (promotion_cases, promotion_cycles):
        assert incrementally(projection, stream(), batch) == replay(projection, stream())
