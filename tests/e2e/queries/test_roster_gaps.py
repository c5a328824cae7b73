"""``people(missing:)``: the roster filtered by a development-area gap of the readiness
model, with the same keyset cursors and a ``totalCount`` that agrees, over HTTP on each
backend."""

from __future__ import annotations

from typing import Any

import pytest

from domain.readiness import MISSING_KEYS
from tests.e2e.queries.seed import ORG, Seeded

GAPS = """query($first: Int, $after: String, $missing: String, $orderBy: PeopleOrder,
                $ready: Boolean, $level: String) {
  people(first: $first, after: $after, missing: $missing, orderBy: $orderBy, ready: $ready,
         level: $level) {
    totalCount
    edges { node { personId levelKey readiness { ready missing } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def walk(org: Seeded, **arguments: Any) -> tuple[list[dict[str, Any]], set[int]]:
    """Every node, 7 a page, and the totals the pages gave."""
    nodes: list[dict[str, Any]] = []
    totals: set[int] = set()
    after = None
    while True:
        page = org.data(GAPS, {"first": 7, "after": after, **arguments})["people"]
        totals.add(page["totalCount"])
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes, totals
        after = page["pageInfo"]["endCursor"]


def missing_of(node: dict[str, Any]) -> list[str]:
    return list((node["readiness"] or {}).get("missing") or [])


@pytest.mark.parametrize("key", MISSING_KEYS)
def test_the_gap_filter_lists_exactly_those_whose_readiness_misses_that_key(
    org: Seeded, key: str
) -> None:
    everyone, _ = walk(org)
    expected = [n["personId"] for n in everyone if key in missing_of(n)]
    found, totals = walk(org, missing=key)
    assert [n["personId"] for n in found] == expected  # the roster's order, every page
    assert totals == {len(expected)}


def test_the_seeded_org_has_people_with_and_without_a_mentorship_gap(org: Seeded) -> None:
    # Guards the test above against passing on an org where every answer is empty or full.
    everyone, _ = walk(org)
    found, _ = walk(org, missing="mentorship")
    assert 0 < len(found) < len(everyone)


def test_the_gap_filter_combines_with_sort_orders_and_other_filters(org: Seeded) -> None:
    by_level, totals = walk(org, missing="role_rotation", orderBy="LEVEL")
    by_name, _ = walk(org, missing="role_rotation")
    assert sorted(n["personId"] for n in by_level) == sorted(n["personId"] for n in by_name)
    assert totals == {len(by_name)}
    apms, apm_totals = walk(org, missing="role_rotation", level="apm", ready=False)
    assert {n["personId"] for n in apms} == {
        n["personId"] for n in by_name if n["levelKey"] == "apm"
    }
    assert apm_totals == {len(apms)}


def test_a_cursor_of_the_unfiltered_roster_pages_the_filtered_one(org: Seeded) -> None:
    # The cursor is the row's sort key: the same rules whatever the filters.
    first = org.data(GAPS, {"first": 3})["people"]
    after = first["pageInfo"]["endCursor"]
    rest, _ = walk(org, missing="mentorship")
    page = org.data(GAPS, {"first": 100, "after": after, "missing": "mentorship"})["people"]
    skipped = {e["node"]["personId"] for e in first["edges"]}
    assert [e["node"]["personId"] for e in page["edges"]] == [
        n["personId"] for n in rest if n["personId"] not in skipped
    ]


def test_an_unknown_gap_key_is_an_invalid_argument(org: Seeded) -> None:
    assert org.error_codes(GAPS, {"missing": "charisma"}) == ["INVALID_ARGUMENT"]


def test_a_manager_sees_only_the_gaps_of_the_people_they_may_see(org: Seeded) -> None:
    query = (
        '{ people(first: 100, missing: "mentorship") { totalCount edges { node { personId } } } }'
    )
    mine = org.data(query, role="manager", subject=ORG["manager"])["people"]
    everyone = org.data(query)["people"]
    ids = {e["node"]["personId"] for e in mine["edges"]}
    assert ids <= {e["node"]["personId"] for e in everyone["edges"]}
    assert ORG["vp"] not in ids and mine["totalCount"] == len(ids)
