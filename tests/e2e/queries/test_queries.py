"""Every read query over real HTTP, on SQLite and PostgreSQL, against a seeded org."""

from __future__ import annotations

import itertools
from datetime import date

from tests.e2e.queries.seed import (
    BULK,
    FUTURE_PROMOTION,
    MENTORSHIP,
    ORG,
    ROTATION,
    TODAY,
    Seeded,
    bulk_id,
    global_id,
)

PERSON = """
query($id: ID!) {
  person(id: $id) {
    id personId name email track levelKey status hiredOn departedOn
    yearsOfExperience daysInLevel activeMenteeCount
    level { key title rank minYears }
    manager { personId name }
    activeRotation { rotationId hostTeam plannedEndOn person { personId } }
    mentees { personId }
    mentor { personId }
    timeline { type effectiveOn toLevel { key } fromLevel { key } actor position }
    readiness { nextLevel { key } ready missing monthsInLevel }
  }
}
"""


def test_person_reads_the_read_model_with_related_objects(org: Seeded) -> None:
    person = org.data(PERSON, {"id": global_id("Person", ORG["employee"])})["person"]
    assert person["personId"] == ORG["employee"]
    assert person["id"] == global_id("Person", ORG["employee"])
    assert person["level"] == {
        "key": "senior_pm",
        "title": person["level"]["title"],
        "rank": 3,
        "minYears": 5,
    }
    assert person["manager"] == {"personId": ORG["manager"], "name": "Manager Person"}
    assert person["mentor"] == {"personId": ORG["manager"]}
    assert person["activeRotation"]["rotationId"] == ROTATION
    assert person["activeRotation"]["person"] == {"personId": ORG["employee"]}
    assert person["status"] == "ACTIVE"
    assert person["daysInLevel"] == (TODAY - date(2023, 3, 1)).days
    assert person["yearsOfExperience"] > 7.4
    types = [e["type"] for e in person["timeline"]]
    assert types[0] == "PersonHired"
    promotion = person["timeline"][types.index("PromotionRecorded")]
    assert promotion["fromLevel"] == {"key": "pm"}
    assert promotion["toLevel"] == {"key": "senior_pm"}
    assert promotion["actor"] == "hr-admin"
    assert person["readiness"]["nextLevel"] == {"key": "group_pm"}


def test_person_accepts_a_raw_uuid(org: Seeded) -> None:
    person = org.data("query($id: ID!) { person(id: $id) { name } }", {"id": ORG["manager"]})
    assert person["person"] == {"name": "Manager Person"}


def test_person_with_an_unknown_id_is_null(org: Seeded) -> None:
    unknown = global_id("Person", "00000000-0000-4000-8000-000000000000")
    assert org.data("query($id: ID!) { person(id: $id) { name } }", {"id": unknown}) == {
        "person": None
    }


def test_node_resolves_people_mentorships_and_rotations(org: Seeded) -> None:
    query = """query($a: ID!, $b: ID!, $c: ID!) {
      a: node(id: $a) { __typename ... on Person { name } }
      b: node(id: $b) { __typename ... on Mentorship { mentor { personId } active } }
      c: node(id: $c) { __typename ... on Rotation { hostTeam } }
    }"""
    data = org.data(
        query,
        {
            "a": global_id("Person", ORG["junior"]),
            "b": global_id("Mentorship", MENTORSHIP),
            "c": global_id("Rotation", ROTATION),
        },
    )
    assert data["a"] == {"__typename": "Person", "name": "Junior Person"}
    assert data["b"] == {
        "__typename": "Mentorship",
        "mentor": {"personId": ORG["manager"]},
        "active": True,
    }
    assert data["c"] == {"__typename": "Rotation", "hostTeam": "Growth"}


def test_people_filters_by_track_level_status_and_search(org: Seeded) -> None:
    query = """query($level: String, $status: PersonStatus, $search: String) {
      people(first: 100, level: $level, status: $status, search: $search, track: "product") {
        nodes { personId levelKey status }
      }
    }"""
    pms = org.data(query, {"level": "pm"})["people"]["nodes"]
    assert {p["personId"] for p in pms} == {ORG["junior"], ORG["outsider"], ORG["leaver"]}
    departed = org.data(query, {"status": "DEPARTED"})["people"]["nodes"]
    assert [p["personId"] for p in departed] == [ORG["leaver"]]
    found = org.data(query, {"search": "OUTSIDER@EXAMPLE"})["people"]["nodes"]
    assert [p["personId"] for p in found] == [ORG["outsider"]]
    assert org.data(query, {"search": "%"})["people"]["nodes"] == []


def test_a_future_dated_promotion_shows_only_from_its_date(org: Seeded) -> None:
    person = "query($id: ID!) { person(id: $id) { levelKey level { key } } }"
    assert org.data(person, {"id": ORG["outsider"]})["person"] == {
        "levelKey": "pm",
        "level": {"key": "pm"},
    }
    seniors = org.data('{ people(first: 100, level: "senior_pm") { nodes { personId } } }')
    assert ORG["outsider"] not in {p["personId"] for p in seniors["people"]["nodes"]}
    history = """query($id: ID!, $asOf: Date) {
      careerHistory(personId: $id, asOf: $asOf) { levelKey }
    }"""
    on = org.data(history, {"id": ORG["outsider"], "asOf": str(FUTURE_PROMOTION)})
    assert on["careerHistory"] == {"levelKey": "senior_pm"}
    today = org.data(history, {"id": ORG["outsider"], "asOf": str(TODAY)})
    assert today["careerHistory"] == {"levelKey": "pm"}


def test_career_history_as_of_a_day_shows_the_career_then(org: Seeded) -> None:
    query = """query($id: ID!, $asOf: Date) {
      careerHistory(personId: $id, asOf: $asOf) {
        levelKey level { key } status yearsOfExperience knownPosition
        levelChanges { kind effectiveOn level { key } }
        events { type effectiveOn toLevel { key } }
        manager { personId }
      }
    }"""
    before = org.data(query, {"id": ORG["employee"], "asOf": "2022-12-31"})["careerHistory"]
    assert before["levelKey"] == "pm"
    assert [c["kind"] for c in before["levelChanges"]] == ["hired"]
    assert [e["type"] for e in before["events"]] == ["PersonHired"]
    assert before["manager"] == {"personId": ORG["manager"]}
    now = org.data(query, {"id": ORG["employee"]})["careerHistory"]
    assert now["level"] == {"key": "senior_pm"}
    assert now["levelChanges"][-1]["level"] == {"key": "senior_pm"}


def test_career_history_known_at_ignores_later_records(org: Seeded) -> None:
    query = """query($id: ID!, $knownAt: DateTime) {
      careerHistory(personId: $id, knownAt: $knownAt) { status knownPosition }
    }"""
    then = org.data(
        query, {"id": ORG["leaver"], "knownAt": org.departure_recorded_after.isoformat()}
    )["careerHistory"]
    now = org.data(query, {"id": ORG["leaver"]})["careerHistory"]
    assert then["status"] == "active"
    assert now["status"] == "departed"
    assert now["knownPosition"] > then["knownPosition"]


def test_audit_trail_lists_every_event_with_its_chain(org: Seeded) -> None:
    query = """query($id: ID!) {
      auditTrail(personId: $id) {
        events { position streamVersion type effectiveOn recordedAt actor data hash previousHash }
        verification { ok eventsChecked firstBreak { reason } }
      }
    }"""
    trail = org.data(query, {"id": ORG["employee"]}, role="auditor")["auditTrail"]
    events = trail["events"]
    assert [e["streamVersion"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["previousHash"] is None
    for prev, cur in itertools.pairwise(events):
        assert cur["previousHash"] == prev["hash"]
        assert cur["position"] > prev["position"]
    assert events[0]["data"]["name"] == "Employee Person"
    assert events[0]["effectiveOn"] == "2020-01-01"
    assert trail["verification"] == {"ok": True, "eventsChecked": len(events), "firstBreak": None}


def test_mentorships_list_active_and_past_with_people(org: Seeded) -> None:
    query = """query($mentor: ID) {
      mentorships(first: 10, mentorId: $mentor) {
        nodes { mentorshipId goals active startedOn mentor { personId } mentee { personId } }
      }
    }"""
    nodes = org.data(query, {"mentor": ORG["manager"]})["mentorships"]["nodes"]
    assert nodes == [
        {
            "mentorshipId": MENTORSHIP,
            "goals": ["strategy"],
            "active": True,
            "startedOn": "2023-04-01",
            "mentor": {"personId": ORG["manager"]},
            "mentee": {"personId": ORG["employee"]},
        }
    ]


def test_rotations_ending_soon(org: Seeded) -> None:
    query = """query($days: Int) {
      rotations(first: 100, endingWithinDays: $days) { nodes { rotationId person { personId } } }
    }"""
    soon = org.data(query, {"days": 30})["rotations"]["nodes"]
    assert [r["rotationId"] for r in soon] == [ROTATION]
    everything = org.data(query, {"days": None})["rotations"]["nodes"]
    assert len(everything) == 1 + BULK - BULK // 5


def test_level_census_now_and_as_of_a_past_day(org: Seeded) -> None:
    query = """query($asOf: Date) {
      levelCensus(asOf: $asOf) { total levels { levelKey headcount level { title } } }
    }"""
    now = org.data(query)["levelCensus"]
    counts = {x["levelKey"]: x["headcount"] for x in now["levels"]}
    assert counts["senior_pm"] == 1 + BULK // 5
    assert counts["pm"] == 2  # junior and outsider; the leaver departed
    assert now["total"] == 6 + BULK
    past = org.data(query, {"asOf": "2021-06-30"})["levelCensus"]
    counts = {x["levelKey"]: x["headcount"] for x in past["levels"]}
    assert counts == {"vp_product": 1, "director": 1, "group_pm": 1, "pm": 3}


def test_level_census_known_at_a_moment_ignores_later_records(org: Seeded) -> None:
    query = """query($knownAt: DateTime) {
      levelCensus(knownAt: $knownAt) { knownAt levels { levelKey headcount } }
    }"""
    moment = org.departure_recorded_after.isoformat()
    then = org.data(query, {"knownAt": moment})["levelCensus"]
    counts = {x["levelKey"]: x["headcount"] for x in then["levels"]}
    assert counts["pm"] == 3  # the leaver's departure was not recorded yet
    assert then["knownAt"] is not None


def test_promotion_stats_count_by_quarter_with_median_months(org: Seeded) -> None:
    query = """{ promotionStats {
      byQuarter { quarter levelKey promotions level { key } }
      monthsInLevel { levelKey promotions medianMonths }
    } }"""
    stats = org.data(query)["promotionStats"]
    assert {(q["quarter"], q["levelKey"], q["promotions"]) for q in stats["byQuarter"]} == {
        ("2023-Q1", "senior_pm", 1),
        ("2023-Q2", "pm", 1),
        ("2025-Q3", "senior_pm", 1),
    }
    tenure = {t["levelKey"]: t["medianMonths"] for t in stats["monthsInLevel"]}
    assert tenure == {"pm": (38 + 55) / 2, "apm": 17.0}


def test_promotion_readiness_lists_what_is_missing(org: Seeded) -> None:
    query = """query($id: ID!) { promotionReadiness(personId: $id) {
      nextLevel { key } ready experienceMet mentorshipDone rotationDone trainingDone missing
      person { personId }
    } }"""
    found = org.data(query, {"id": ORG["employee"]})["promotionReadiness"]
    assert found["nextLevel"] == {"key": "group_pm"}
    assert found["mentorshipDone"] is True
    assert found["trainingDone"] is True
    assert found["rotationDone"] is False
    assert "role_rotation" in found["missing"]
    assert found["person"] == {"personId": ORG["employee"]}


def test_experience_exceptions_name_the_promotion_and_reason(org: Seeded) -> None:
    query = """{ experienceExceptions(first: 10) { nodes {
      reason effectiveOn person { personId } toLevel { key } promotion { type }
    } } }"""
    nodes = org.data(query, role="auditor")["experienceExceptions"]["nodes"]
    assert nodes == [
        {
            "reason": "Exceptional launch results",
            "effectiveOn": "2023-06-01",
            "person": {"personId": ORG["junior"]},
            "toLevel": {"key": "pm"},
            "promotion": {"type": "PromotionRecorded"},
        }
    ]


def test_mentees_of_a_bulk_mentor(org: Seeded) -> None:
    query = "query($id: ID!) { person(id: $id) { mentees { personId mentor { personId } } } }"
    mentees = org.data(query, {"id": bulk_id(0)})["person"]["mentees"]
    assert {m["personId"] for m in mentees} == {bulk_id(i) for i in range(1, 5)}
    assert all(m["mentor"] == {"personId": bulk_id(0)} for m in mentees)
