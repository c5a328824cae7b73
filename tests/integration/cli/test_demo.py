"""``ladder demo``: a sample org through the domain commands, the same for the same seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

from tests.integration.cli.conftest import DEMO_PEOPLE, DEMO_SEED
from tests.integration.cli.helpers import count, opened_data, rows, with_db


def _normalized(url: str) -> list[tuple[Any, ...]]:
    """The log without what the store hands out itself (event ids, times, hashes).

    A correction names its target by event id; it is replaced by the target's
    (stream, version), which the same seed must reproduce.
    """
    events = rows(url)
    opened = opened_data(url)  # personal fields are stored sealed, under random nonces
    where = {UUID(str(r["event_id"])): (r["stream"], r["version"]) for r in events}
    out = []
    for r in events:
        data = opened[r["position"]]
        if "target_event_id" in data:
            data["target_event_id"] = where[UUID(data["target_event_id"])]
        out.append((r["position"], r["stream"], r["version"], r["type"], data, r["metadata"]))
    return out


def test_the_same_seed_gives_the_same_events(demo_db: str, other_db_url: str) -> None:
    ran = with_db(other_db_url, "demo", "--people", DEMO_PEOPLE, "--seed", DEMO_SEED, "-q")
    assert ran.exit_code == 0, ran.stderr
    first, second = _normalized(demo_db), _normalized(other_db_url)
    assert len(first) > 30
    assert first == second


def test_another_seed_gives_another_org(demo_db: str, other_db_url: str) -> None:
    ran = with_db(other_db_url, "demo", "--people", DEMO_PEOPLE, "--seed", "8", "-q")
    assert ran.exit_code == 0, ran.stderr
    assert _normalized(demo_db) != _normalized(other_db_url)


def test_the_demo_records_every_kind_of_career_fact(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'big.db'}"
    ran = with_db(url, "demo", "--people", "40", "--seed", "3", "-q")
    assert ran.exit_code == 0, ran.stderr
    assert ran.error_lines == []  # no command was refused by the rules
    types = {r["type"] for r in rows(url)}
    assert {
        "LadderPublished",
        "PersonHired",
        "PromotionRecorded",
        "MentorshipStarted",
        "MentorshipEnded",
        "RoleRotationStarted",
        "RoleRotationEnded",
        "LeadershipTrainingCompleted",
        "PersonDeparted",
        "PersonRehired",
        "EventCorrected",
        "EventRescinded",
    } <= types
    assert "recorded" in ran.stdout


def test_running_the_same_demo_again_writes_nothing(demo_db: str) -> None:
    before = count(demo_db)
    ran = with_db(demo_db, "demo", "--people", DEMO_PEOPLE, "--seed", DEMO_SEED, "-q")
    assert ran.exit_code == 0, ran.stderr
    assert count(demo_db) == before


def test_the_demo_leaves_every_chain_intact(demo_db: str) -> None:
    ran = with_db(demo_db, "verify", "-q")
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.startswith("ok:")
