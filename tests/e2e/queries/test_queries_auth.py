"""The authorization matrix for reads: every query against every role and no token.

Rules (``api.scopes``): employees read themselves, managers themselves and their reports
(direct and indirect), HR and auditors everyone; audit trails and experience exceptions
are for HR and auditors; ladders are public. Per-person non-null fields say FORBIDDEN for
someone out of reach, nullable lookups answer null, lists leave people out.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.queries.seed import BULK, ORG, Seeded, bulk_id, global_id

ALLOWED = "allowed"
NULL = "null"
FORBIDDEN = "FORBIDDEN"
UNAUTHENTICATED = "UNAUTHENTICATED"

# The caller is the manager for the manager role and the employee for the employee role;
# the target is the employee (in the manager's reach) or the outsider (in nobody's).
CALLERS = {
    "employee": ORG["employee"],
    "manager": ORG["manager"],
    "hr": ORG["vp"],
    "auditor": ORG["vp"],
    None: None,
}

QUERIES: dict[str, str] = {
    "person": "query($id: ID!) { person(id: $id) { personId } }",
    "careerHistory": "query($id: ID!) { careerHistory(personId: $id) { personId } }",
    "auditTrail": "query($id: ID!) { auditTrail(personId: $id) { personId } }",
    "promotionReadiness": "query($id: ID!) { promotionReadiness(personId: $id) { personId } }",
    "node": "query($id: ID!) { node(id: $id) { id } }",
}

# (query, target) -> outcome per role (employee, manager, hr, auditor, no token)
MATRIX: dict[tuple[str, str], tuple[str, str, str, str, str]] = {
    ("person", "employee"): (ALLOWED, ALLOWED, ALLOWED, ALLOWED, UNAUTHENTICATED),
    ("person", "outsider"): (NULL, NULL, ALLOWED, ALLOWED, UNAUTHENTICATED),
    ("node", "employee"): (ALLOWED, ALLOWED, ALLOWED, ALLOWED, UNAUTHENTICATED),
    ("node", "outsider"): (NULL, NULL, ALLOWED, ALLOWED, UNAUTHENTICATED),
    ("careerHistory", "employee"): (ALLOWED, ALLOWED, ALLOWED, ALLOWED, UNAUTHENTICATED),
    ("careerHistory", "outsider"): (FORBIDDEN, FORBIDDEN, ALLOWED, ALLOWED, UNAUTHENTICATED),
    ("promotionReadiness", "employee"): (ALLOWED, ALLOWED, ALLOWED, ALLOWED, UNAUTHENTICATED),
    ("promotionReadiness", "outsider"): (FORBIDDEN, FORBIDDEN, ALLOWED, ALLOWED, UNAUTHENTICATED),
    ("auditTrail", "employee"): (FORBIDDEN, FORBIDDEN, ALLOWED, ALLOWED, UNAUTHENTICATED),
    ("auditTrail", "outsider"): (FORBIDDEN, FORBIDDEN, ALLOWED, ALLOWED, UNAUTHENTICATED),
}
ROLES = ("employee", "manager", "hr", "auditor", None)


def outcome(org: Seeded, query: str, variables: dict[str, Any], role: str | None) -> str:
    body = org.post(query, variables, role=role, subject=CALLERS[role]).json()
    if body.get("errors"):
        codes = {str(e["extensions"]["code"]) for e in body["errors"]}
        assert len(codes) == 1, body
        return codes.pop()
    value = next(iter(body["data"].values()))
    return NULL if value is None else ALLOWED


@pytest.mark.parametrize(("name", "target"), sorted(MATRIX))
def test_per_person_queries_follow_the_matrix(org: Seeded, name: str, target: str) -> None:
    variables = {"id": global_id("Person", ORG[target])}
    got = tuple(outcome(org, QUERIES[name], variables, role) for role in ROLES)
    assert got == MATRIX[(name, target)]


def people_seen(org: Seeded, role: str) -> set[str]:
    seen: set[str] = set()
    after = None
    while True:
        page = org.data(
            "query($after: String) { people(first: 100, after: $after) "
            "{ nodes { personId } pageInfo { hasNextPage endCursor } } }",
            {"after": after},
            role=role,
            subject=CALLERS[role],
        )["people"]
        seen |= {n["personId"] for n in page["nodes"]}
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


def test_people_lists_only_whom_the_caller_may_see(org: Seeded) -> None:
    everyone = set(ORG.values()) | {bulk_id(i) for i in range(BULK)}
    assert people_seen(org, "hr") == everyone
    assert people_seen(org, "auditor") == everyone
    assert people_seen(org, "employee") == {ORG["employee"]}
    reports = {ORG["employee"], ORG["junior"]} | {bulk_id(i) for i in range(BULK)}
    assert people_seen(org, "manager") == reports | {ORG["manager"]}


def test_a_manager_sees_indirect_reports(org: Seeded) -> None:
    query = "query($id: ID!) { person(id: $id) { personId } }"
    data = org.data(query, {"id": ORG["employee"]}, role="manager", subject=ORG["director"])
    assert data == {"person": {"personId": ORG["employee"]}}


def test_related_people_out_of_reach_are_null(org: Seeded) -> None:
    query = "query($id: ID!) { person(id: $id) { manager { personId } mentor { personId } } }"
    data = org.data(query, {"id": ORG["employee"]}, role="employee", subject=ORG["employee"])
    assert data == {"person": {"manager": None, "mentor": None}}


@pytest.mark.parametrize("role", ROLES)
def test_lists_and_reports_by_role(org: Seeded, role: str | None) -> None:
    lists = {
        "people": "{ people(first: 1) { nodes { personId } } }",
        "mentorships": "{ mentorships(first: 1) { nodes { mentorshipId } } }",
        "rotations": "{ rotations(first: 1) { nodes { rotationId } } }",
        "levelCensus": "{ levelCensus { total } }",
        "promotionStats": "{ promotionStats { byQuarter { quarter } } }",
    }
    for name, query in lists.items():
        codes = org.error_codes(query, role=role, subject=CALLERS[role])
        assert codes == ([UNAUTHENTICATED] if role is None else []), name
    codes = org.error_codes(
        "{ experienceExceptions { nodes { reason } } }", role=role, subject=CALLERS[role]
    )
    expected = {None: [UNAUTHENTICATED], "employee": [FORBIDDEN], "manager": [FORBIDDEN]}
    assert codes == expected.get(role, [])


def test_the_employee_sees_only_their_own_mentorships_and_rotations(org: Seeded) -> None:
    data = org.data(
        "{ mentorships(first: 100) { nodes { mentee { personId } } }"
        "  rotations(first: 100) { nodes { person { personId } } } }",
        role="employee",
        subject=ORG["employee"],
    )
    assert data["mentorships"]["nodes"] == [{"mentee": {"personId": ORG["employee"]}}]
    assert data["rotations"]["nodes"] == [{"person": {"personId": ORG["employee"]}}]


def test_ladders_are_public(org: Seeded) -> None:
    body = org.post('{ levels(track: "product") { key } }').json()
    assert "errors" not in body
    assert body["data"]["levels"][0] == {"key": "apm"}
