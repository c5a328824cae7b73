"""The roster a frontend builds on: ``totalCount``, sort orders with their own keyset
cursors, and the level, readiness and manager filters, over HTTP on each backend."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.queries.seed import BULK, ORG, Seeded

ROSTER = """query($first: Int, $after: String, $orderBy: PeopleOrder, $level: String,
                  $ready: Boolean, $managerId: ID, $allReports: Boolean! = false) {
  people(first: $first, after: $after, orderBy: $orderBy, level: $level, ready: $ready,
         managerId: $managerId, allReports: $allReports) {
    totalCount
    edges { cursor node { personId name hiredOn daysInLevel level { rank } readiness { ready } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

EVERYONE = len(ORG) + BULK


def walk(org: Seeded, **arguments: Any) -> tuple[list[dict[str, Any]], set[int]]:
    """Every node of the list, page by page (7 a page), and the totals the pages gave."""
    nodes: list[dict[str, Any]] = []
    totals: set[int] = set()
    after = None
    while True:
        page = org.data(ROSTER, {"first": 7, "after": after, **arguments})["people"]
        totals.add(page["totalCount"])
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes, totals
        after = page["pageInfo"]["endCursor"]


def settled(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Without the outsider, whose promotion takes effect after today: rows with future
    facts sort by their recorded values until those take effect (see the docs)."""
    return [n for n in nodes if n["personId"] != ORG["outsider"]]


def test_total_count_is_the_whole_list_on_every_page(org: Seeded) -> None:
    nodes, totals = walk(org)
    assert totals == {EVERYONE} == {len(nodes)}


@pytest.mark.parametrize(
    ("order", "sort_key"),
    [
        ("NAME", lambda n: (n["name"], n["personId"])),
        ("LEVEL", lambda n: (-n["level"]["rank"], n["name"], n["personId"])),
        ("HIRED_ON", lambda n: (n["hiredOn"], n["personId"])),
        ("TIME_IN_LEVEL", lambda n: (-n["daysInLevel"], n["personId"])),
    ],
)
def test_each_sort_order_pages_through_everyone_once_in_its_order(
    org: Seeded, order: str, sort_key: Any
) -> None:
    nodes, totals = walk(org, orderBy=order)
    ids = [n["personId"] for n in nodes]
    assert len(ids) == len(set(ids)) == EVERYONE
    assert totals == {EVERYONE}
    assert settled(nodes) == sorted(settled(nodes), key=sort_key)


def test_a_cursor_of_one_order_is_refused_by_another(org: Seeded) -> None:
    page = org.data(ROSTER, {"first": 2, "orderBy": "HIRED_ON"})["people"]
    cursor = page["pageInfo"]["endCursor"]
    for other in ("NAME", "LEVEL", "TIME_IN_LEVEL"):
        codes = org.error_codes(ROSTER, {"first": 2, "after": cursor, "orderBy": other})
        assert codes == ["INVALID_CURSOR"]


def test_ready_filters_by_what_readiness_says(org: Seeded) -> None:
    everyone, _ = walk(org)
    ready = {n["personId"] for n in everyone if (n["readiness"] or {}).get("ready")}
    # Nobody in the seeded org is ready yet (the integration tests cover someone who is);
    # here the filter must agree with `readiness { ready }` for everyone.
    found, totals = walk(org, ready=True)
    assert {n["personId"] for n in found} == ready
    assert totals == {len(ready)}
    rest, rest_totals = walk(org, ready=False, orderBy="LEVEL")
    assert {n["personId"] for n in rest} == {n["personId"] for n in everyone} - ready
    assert rest_totals == {EVERYONE - len(ready)}


def test_level_filter_and_count_agree(org: Seeded) -> None:
    found, totals = walk(org, level="apm", orderBy="HIRED_ON")
    # The bulk mentees are hired as APMs; the junior was promoted to PM.
    assert totals == {len(found)} == {BULK - BULK // 5}
    assert all(n["level"]["rank"] == 1 for n in found)


def test_manager_filter_takes_direct_or_all_reports(org: Seeded) -> None:
    direct, direct_totals = walk(org, managerId=ORG["director"])
    assert {n["personId"] for n in direct} == {ORG["manager"], ORG["outsider"]}
    assert direct_totals == {2}
    below, totals = walk(org, managerId=ORG["director"], allReports=True)
    expected = {ORG[k] for k in ("manager", "outsider", "employee", "junior")}
    assert {n["personId"] for n in below} >= expected
    assert totals == {len(below)} == {len(expected) + BULK}


def test_a_manager_counts_only_the_people_they_may_see(org: Seeded) -> None:
    query = "{ people(first: 1) { totalCount } }"
    found = org.data(query, role="manager", subject=ORG["manager"])["people"]
    assert found["totalCount"] == 3 + BULK  # themselves, the employee, the junior, the bulk


def test_other_connections_count_their_whole_list(org: Seeded) -> None:
    for name in ("mentorships", "rotations"):
        found = org.data(f"{{ {name}(first: 1) {{ totalCount }} }}")[name]
        assert found["totalCount"] == 1 + BULK - BULK // 5
    exceptions = org.data("{ experienceExceptions(first: 1) { totalCount } }")
    assert exceptions["experienceExceptions"]["totalCount"] == 1
