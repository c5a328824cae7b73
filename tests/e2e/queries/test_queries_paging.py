"""Keyset pagination, the N+1 proof, and bad input on the read side."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import without_cost
from tests.e2e.queries.seed import BULK, ORG, Seeded, bulk_id, global_id

PAGE = """query($first: Int, $after: String) {
  people(first: $first, after: $after) {
    edges { cursor node { personId name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


def test_pages_walk_every_person_once_in_name_order(org: Seeded) -> None:
    names: list[str] = []
    after = None
    pages = 0
    while True:
        page = org.data(PAGE, {"first": 7, "after": after})["people"]
        pages += 1
        names += [e["node"]["name"] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert names == sorted(names)
    assert len(names) == len(set(names)) == len(ORG) + BULK
    assert pages == -(-(len(ORG) + BULK) // 7)


def test_a_cursor_is_a_sort_key_not_an_offset(org: Seeded) -> None:
    """A cursor names the row it follows: it still points there if rows come before it."""
    first = org.data(PAGE, {"first": 3})["people"]
    cursor = first["edges"][1]["cursor"]
    following = org.data(PAGE, {"first": 1, "after": cursor})["people"]
    assert following["edges"][0]["node"] == first["edges"][2]["node"]


def test_mentorship_and_rotation_pages_do_not_overlap(org: Seeded) -> None:
    for field, key in (("mentorships", "mentorshipId"), ("rotations", "rotationId")):
        query = f"""query($after: String) {{ {field}(first: 25, after: $after) {{
            nodes {{ {key} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
        seen: list[str] = []
        after = None
        while True:
            page = org.data(query, {"after": after})[field]
            seen += [n[key] for n in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert len(seen) == len(set(seen)) == 1 + BULK - BULK // 5


def test_first_zero_gives_an_empty_page(org: Seeded) -> None:
    page = org.data(PAGE, {"first": 0})["people"]
    assert page["edges"] == []
    assert page["pageInfo"]["hasNextPage"] is True


WIDE = """query($first: Int) {
  people(first: $first) {
    nodes {
      name level { title } manager { name level { title } }
      mentees { name level { key } } mentor { name }
      activeRotation { hostTeam }
    }
  }
}"""


def statements_for(org: Seeded, first: int) -> tuple[int, list[dict[str, Any]]]:
    org.data(WIDE, {"first": first})  # warm: a first request may run one-off statements
    org.statements.clear()
    nodes = org.data(WIDE, {"first": first})["people"]["nodes"]
    count = len(org.statements)
    return count, nodes


def test_a_page_of_100_people_costs_the_statements_of_a_page_of_10(org: Seeded) -> None:
    small, ten = statements_for(org, 10)
    large, hundred = statements_for(org, 100)
    assert len(ten) == 10
    assert len(hundred) == 100
    assert sum(len(p["mentees"]) for p in hundred) > sum(len(p["mentees"]) for p in ten)
    assert any(p["activeRotation"] for p in ten)
    assert any(p["mentees"] for p in ten)
    assert large == small, org.statements


def statements_of(org: Seeded, query: str) -> list[str]:
    org.data(query)  # warm: each ladder version is parsed once
    org.statements.clear()
    nodes = org.data(query)["people"]["nodes"]
    assert len(nodes) == 50
    return list(org.statements)


def test_the_levels_of_a_page_of_people_cost_no_statement_of_their_own(org: Seeded) -> None:
    names = statements_of(org, "{ people(first: 50) { nodes { name } } }")
    levels = statements_of(org, "{ people(first: 50) { nodes { name level { title } } } }")
    assert levels == names


# Variables that cannot be coerced fail the whole request (400, no ``data``) with
# ``BAD_REQUEST``; literals of the wrong shape fail validation.
REQUEST_ERRORS = ("BAD_REQUEST", "GRAPHQL_VALIDATION_FAILED")
BAD: list[tuple[str, str, dict[str, Any], str]] = [
    (
        "date literal in the wrong format",
        '{ levelCensus(asOf: "2025-13-01") { total } }',
        {},
        "GRAPHQL_VALIDATION_FAILED",
    ),
    (
        "date in the wrong format",
        "query($d: Date) { levelCensus(asOf: $d) { total } }",
        {"d": "30/06/2025"},
        "BAD_REQUEST",
    ),
    (
        "datetime in the wrong format",
        "query($id: ID!, $k: DateTime) { careerHistory(personId: $id, knownAt: $k) { status } }",
        {"id": ORG["employee"], "k": "yesterday"},
        "BAD_REQUEST",
    ),
    (
        "wrong variable type",
        "query($n: Int) { people(first: $n) { nodes { name } } }",
        {"n": "ten"},
        "BAD_REQUEST",
    ),
    ("first above the cap", "{ people(first: 101) { nodes { name } } }", {}, "INVALID_PAGE_SIZE"),
    ("negative first", "{ mentorships(first: -1) { nodes { active } } }", {}, "INVALID_PAGE_SIZE"),
    (
        "forged cursor",
        '{ people(after: "bm90IGEgY3Vyc29y") { nodes { name } } }',
        {},
        "INVALID_CURSOR",
    ),
    (
        "a cursor of another list",
        "query($c: String) { rotations(after: $c) { nodes { active } } }",
        {"c": "WyJwZW9wbGUiLCJBIiwiYiJd"},
        "INVALID_CURSOR",
    ),
    (
        "malformed person id",
        "query($id: ID!) { careerHistory(personId: $id) { status } }",
        {"id": "not-an-id"},
        "INVALID_ID",
    ),
    (
        "the id of another type",
        "query($id: ID!) { promotionReadiness(personId: $id) { ready } }",
        {"id": global_id("Level", "product:pm")},
        "INVALID_ID",
    ),
    (
        "unknown person in a non-null field",
        "query($id: ID!) { careerHistory(personId: $id) { status } }",
        {"id": "00000000-0000-4000-8000-000000000000"},
        "NOT_FOUND",
    ),
    (
        "unknown person's audit trail",
        "query($id: ID!) { auditTrail(personId: $id) { personId } }",
        {"id": "00000000-0000-4000-8000-000000000000"},
        "NOT_FOUND",
    ),
    (
        "rotations ending in too many days",
        "{ rotations(endingWithinDays: 100000) { nodes { active } } }",
        {},
        "INVALID_ARGUMENT",
    ),
]


@pytest.mark.parametrize(("case", "query", "variables", "code"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_gets_a_clear_error_with_a_stable_code(
    org: Seeded, case: str, query: str, variables: dict[str, Any], code: str
) -> None:
    response = org.post(query, variables, role="hr")
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == [code], body
    assert body["errors"][0]["message"]
    if code in REQUEST_ERRORS:
        assert response.status_code == 400
        assert "data" not in body


def test_an_unknown_person_is_null_not_an_error(org: Seeded) -> None:
    unknown = global_id("Person", "00000000-0000-4000-8000-000000000000")
    body = org.post(
        "query($id: ID!) { person(id: $id) { name } node(id: $id) { id } }",
        {"id": unknown},
        role="hr",
    ).json()
    assert without_cost(body) == {"data": {"person": None, "node": None}}


def test_mentees_of_the_first_bulk_mentor_are_ordered(org: Seeded) -> None:
    data = org.data("query($id: ID!) { person(id: $id) { activeMenteeCount } }", {"id": bulk_id(5)})
    assert data == {"person": {"activeMenteeCount": 4}}
