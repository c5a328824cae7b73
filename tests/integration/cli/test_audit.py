"""``ladder replay`` and ``ladder verify``: the auditor's view, straight from the log."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.integration.cli.helpers import Ran, on_db, rows, with_db
from tests.support import bypass_append_only


def _replay_json(url: str, *args: str) -> dict[str, Any]:
    ran = with_db(url, "replay", *args, "--json")
    assert ran.exit_code == 0, ran.stderr
    report: dict[str, Any] = orjson.loads(ran.stdout)
    return report


def _promoted_person(url: str) -> dict[str, Any]:
    """The replay of someone promoted at least once."""
    for r in rows(url):
        if r["type"] == "PromotionRecorded":
            return _replay_json(url, r["stream"].removeprefix("person-"))
    raise AssertionError("the demo promoted nobody")


def _corrected_person(url: str) -> dict[str, Any]:
    for r in rows(url):
        if r["type"] == "EventCorrected":
            return _replay_json(url, r["stream"].removeprefix("person-"))
    raise AssertionError("the demo corrected nothing")


def test_replay_lists_every_event_with_its_state_and_the_chain_verdict(demo_db: str) -> None:
    report = _promoted_person(demo_db)
    events = report["events"]
    assert report["events_known"] == report["events_in_stream"] == len(events)
    assert [e["stream_version"] for e in events] == list(range(1, len(events) + 1))
    assert events == sorted(events, key=lambda e: e["position"])
    first = events[0]
    assert first["type"] == "PersonHired"
    assert first["actor_id"] == "demo" and first["actor_role"] == "hr"
    assert first["prev_hash"] is None and len(first["hash"]) == 64
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(events))
    assert first["state_after"]["status"] == "active"
    promotion = next(e for e in events if e["type"] == "PromotionRecorded")
    assert promotion["state_after"]["level"] == promotion["data"]["to_level"]
    assert report["chain"] == {
        "ok": True,
        "events_checked": len(events),
        "first_break": None,
        "first_break_text": None,
    }


def test_replay_as_text_shows_positions_times_actors_and_the_verdict(demo_db: str) -> None:
    report = _promoted_person(demo_db)
    ran = with_db(demo_db, "replay", report["person_id"])
    assert ran.exit_code == 0, ran.stderr
    assert report["state"]["name"] in ran.stdout
    for e in report["events"]:
        assert f"#{e['stream_version']} {e['type']}  position {e['position']}" in ran.stdout
        assert f"effective {e['effective_on']}  recorded {e['recorded_at']}" in ran.stdout
    assert "by demo (hr)" in ran.stdout
    assert "Chain: intact" in ran.stdout


def test_replay_finds_a_person_by_email(demo_db: str) -> None:
    report = _promoted_person(demo_db)
    email = report["events"][0]["data"]["email"]
    assert _replay_json(demo_db, email.upper())["person_id"] == report["person_id"]


def test_replay_as_of_shows_the_level_before_a_promotion(demo_db: str) -> None:
    report = _promoted_person(demo_db)
    promotion = next(e for e in report["events"] if e["type"] == "PromotionRecorded")
    day_before = date.fromisoformat(promotion["effective_on"]) - timedelta(days=1)
    before = _replay_json(demo_db, report["person_id"], "--as-of", day_before.isoformat())
    assert before["as_of"] == day_before.isoformat()
    assert before["state"]["level"] == promotion["data"]["from_level"]
    shown = next(e for e in before["events"] if e["type"] == "PromotionRecorded")
    assert shown["in_effect"] is False


def test_replay_known_at_leaves_out_what_was_recorded_later(demo_db: str) -> None:
    report = _corrected_person(demo_db)
    correction = next(e for e in report["events"] if e["type"] == "EventCorrected")
    just_before = datetime.fromisoformat(correction["recorded_at"]) - timedelta(microseconds=1)
    then = _replay_json(demo_db, report["person_id"], "--known-at", just_before.isoformat())
    assert then["events_known"] < report["events_known"]
    assert "EventCorrected" not in {e["type"] for e in then["events"]}
    assert all(e["position"] < correction["position"] for e in then["events"])
    ran = with_db(demo_db, "replay", report["person_id"], "--known-at", "2000-01-01")
    assert ran.exit_code == 0, ran.stderr
    assert "The log knew nothing of this person at that time." in ran.stdout


async def _tamper(conn: AsyncConnection, position: int) -> None:
    await bypass_append_only(conn)
    await conn.execute(
        sa.text("UPDATE events SET data = :d WHERE position = :p"),
        {"d": orjson.dumps({"forged": True}).decode(), "p": position},
    )


def _tampered_event(url: str) -> dict[str, Any]:
    victim = next(r for r in rows(url) if r["type"] == "PromotionRecorded")
    on_db(url, lambda conn: _tamper(conn, victim["position"]))
    return victim


def _names(ran: Ran, victim: dict[str, Any]) -> None:
    assert ran.exit_code == 1
    assert len(ran.error_lines) == 1
    line = ran.error_lines[0]
    assert line.startswith("error: ")
    assert str(victim["position"]) in line
    assert victim["stream"] in line
    assert "hash does not match" in line


def test_verify_passes_on_an_untouched_log(demo_db: str) -> None:
    ran = with_db(demo_db, "verify")
    assert ran.exit_code == 0, ran.stderr
    assert "every hash chain holds" in ran.stdout


def test_verify_fails_and_names_an_event_changed_with_raw_sql(demo_db: str) -> None:
    victim = _tampered_event(demo_db)
    _names(with_db(demo_db, "verify"), victim)
    _names(with_db(demo_db, "verify", "--stream", victim["stream"]), victim)
    other = next(r["stream"] for r in rows(demo_db) if r["stream"] != victim["stream"])
    assert with_db(demo_db, "verify", "--stream", other).exit_code == 0


def test_replay_of_a_tampered_stream_shows_the_break_and_exits_1(demo_db: str) -> None:
    victim = _tampered_event(demo_db)
    ran = with_db(demo_db, "replay", victim["stream"].removeprefix("person-"))
    assert "Chain: BROKEN" in ran.stdout
    _names(ran, victim)


def test_verify_of_an_unknown_stream_is_not_found(demo_db: str) -> None:
    ran = with_db(demo_db, "verify", "--stream", "person-nobody")
    assert ran.exit_code == 3
    assert ran.error_lines == ["error: no stream person-nobody"]
