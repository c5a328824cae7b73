"""Promotion cases and cycles: one row per case (``rm_promotion_cases``) and per cycle
(``rm_promotion_cycles``), from the events of ``domain.case_events``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from domain import case_events as ce
from events.projections.base import Envelope, Lookup, Projection, Row
from events.readmodels import case_tables


def joined(ids: Sequence[str]) -> str:
    """Ids as the ``reviewers`` columns keep them: ``,a,b,`` (``,`` for none)."""
    return "," + "".join(f"{i}," for i in ids)


def _case_key(env: Envelope) -> Sequence[Lookup]:
    return [("case_id", env.data["case_id"])]


promotion_cases = Projection(
    "promotion_cases", version=1, table=case_tables.promotion_cases, key=_case_key
)


@promotion_cases.on(ce.PromotionNominated)
def nominated(row: Row | None, env: Envelope) -> Row | None:
    if row is not None:
        return row
    d = env.data
    return {
        "case_id": d["case_id"],
        "person_id": d["person_id"],
        "track": d["track"],
        "from_level": d["from_level"],
        "to_level": d["to_level"],
        "ladder_version": d["ladder_version"],
        "cycle_id": d.get("cycle_id"),
        "status": "NOMINATED",
        "rationale": d["rationale"],
        "nominated_by": d["nominated_by"],
        "nominated_on": date.fromisoformat(d["nominated_on"]),
        "evidence": {area: [text] for area, text in d["evidence"].items()},
        "reviews": {},
        "reviewers": ",",
        "effective_on": None,
        "reason": None,
        "decided_by": None,
        "promotion_event_id": None,
        "nominated_position": env.position,
        "position": env.position,
    }


@promotion_cases.on(ce.PromotionEvidenceAdded)
def evidence_added(row: Row | None, env: Envelope) -> Row | None:
    if row is None:
        return row
    d = env.data
    evidence = {k: list(v) for k, v in row["evidence"].items()}
    evidence.setdefault(d["area"], []).append(d["evidence"])
    return {**row, "evidence": evidence, "position": env.position}


@promotion_cases.on(ce.PromotionReviewersNamed)
def reviewers_named(row: Row | None, env: Envelope) -> Row | None:
    if row is None:
        return row
    known = [i for i in row["reviewers"].split(",") if i]
    named = list(dict.fromkeys([*known, *env.data["reviewer_ids"]]))
    return {**row, "reviewers": joined(named), "position": env.position}


@promotion_cases.on(ce.PromotionReviewed)
def reviewed(row: Row | None, env: Envelope) -> Row | None:
    if row is None:
        return row
    d = env.data
    review = {"recommendation": d["recommendation"], "comment": d["comment"]}
    return {
        **row,
        "reviews": {**row["reviews"], d["reviewer_id"]: review},
        "position": env.position,
    }


@promotion_cases.on(ce.PromotionApproved)
def approved(row: Row | None, env: Envelope) -> Row | None:
    if row is None:
        return row
    d = env.data
    return {
        **row,
        "status": "APPROVED",
        "effective_on": date.fromisoformat(d["effective_on"]),
        "decided_by": d["decided_by"],
        "promotion_event_id": d["promotion_event_id"],
        "position": env.position,
    }


@promotion_cases.on(ce.PromotionDeclined)
def declined(row: Row | None, env: Envelope) -> Row | None:
    if row is None:
        return row
    d = env.data
    return {
        **row,
        "status": "DECLINED",
        "reason": d["reason"],
        "decided_by": d["decided_by"],
        "position": env.position,
    }


@promotion_cases.on(ce.NominationWithdrawn)
def withdrawn(row: Row | None, env: Envelope) -> Row | None:
    if row is None:
        return row
    d = env.data
    return {
        **row,
        "status": "WITHDRAWN",
        "reason": d["reason"],
        "decided_by": d["withdrawn_by"],
        "position": env.position,
    }


def _cycle_key(env: Envelope) -> Sequence[Lookup]:
    return [("cycle_id", env.data["cycle_id"])]


promotion_cycles = Projection(
    "promotion_cycles", version=1, table=case_tables.promotion_cycles, key=_cycle_key
)


@promotion_cycles.on(ce.PromotionCycleOpened)
def cycle_opened(row: Row | None, env: Envelope) -> Row | None:
    if row is not None:
        return row
    d = env.data
    return {
        "cycle_id": d["cycle_id"],
        "name": d["name"],
        "closes_on": date.fromisoformat(d["closes_on"]),
        "open": True,
        "reviewers": joined(d["reviewer_ids"]),
        "opened_position": env.position,
    }


@promotion_cycles.on(ce.PromotionCycleClosed)
def cycle_closed(row: Row | None, env: Envelope) -> Row | None:
    if row is None:
        return row
    return {**row, "open": False}
