"""``ladder export-roster`` against the GraphQL ``people`` answer of the same day, on each
backend: the CSV holds everyone the API lists, in its order, with the same values."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from api.cli.exports import ROSTER_COLUMNS
from tests.e2e.queries.seed import TODAY, Seeded
from tests.integration.cli.helpers import with_db

PEOPLE = """query($after: String) {
  people(first: 100, after: $after) {
    edges { node {
      personId name email status track levelKey level { title } manager { personId }
      hiredOn departedOn daysInLevel yearsOfExperience
      readiness { ready nextLevel { key } missing }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def everyone(org: Seeded) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = org.data(PEOPLE, {"after": after})["people"]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def as_row(node: dict[str, Any]) -> dict[str, str]:
    """The CSV row the export writes for a ``people`` node (the seeded names and emails
    start with no formula character, so no cell is quoted)."""
    readiness = node["readiness"] or {}
    next_level = readiness.get("nextLevel") or {}
    return {
        "person_id": node["personId"],
        "name": node["name"],
        "email": node["email"],
        "status": node["status"].lower(),
        "track": node["track"],
        "level_key": node["levelKey"],
        "level_title": (node["level"] or {}).get("title") or "",
        "manager_id": (node["manager"] or {}).get("personId") or "",
        "hired_on": node["hiredOn"],
        "departed_on": node["departedOn"] or "",
        "days_in_level": str(node["daysInLevel"]),
        "years_of_experience": f"{node['yearsOfExperience']:.2f}",
        "ready": "true" if readiness.get("ready") else "false",
        "next_level": next_level.get("key") or "",
        "missing": " ".join(readiness.get("missing") or []),
        "as_of": TODAY.isoformat(),
    }


def test_the_roster_export_of_today_is_what_graphql_people_answers(
    org: Seeded, tmp_path: Path
) -> None:
    file = tmp_path / "roster.csv"
    ran = with_db(org.url, "export-roster", "--as-of", TODAY.isoformat(), str(file))
    assert ran.exit_code == 0, ran.stderr
    with file.open(newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        assert tuple(reader.fieldnames or ()) == ROSTER_COLUMNS
        exported = list(reader)
    served = everyone(org)
    assert len(exported) == len(served) > 100  # more than one page of each
    for row, node in zip(exported, served, strict=True):
        assert {k: v for k, v in row.items() if k != "level_since"} == as_row(node)
    assert f"wrote {len(served)} people as of {TODAY.isoformat()}" in ran.stdout
