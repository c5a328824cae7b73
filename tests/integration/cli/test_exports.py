"""``ladder export-roster`` and ``ladder export-history`` on each backend: a header row, a
fixed order, every career event once, the roster of a past day as the log replays it, and
cells a spreadsheet would run as formulas written as text."""

from __future__ import annotations

import asyncio
import csv
import json
from collections import Counter
from datetime import date
from pathlib import Path
from uuid import UUID

from api.cli.exports import HISTORY_COLUMNS, ROSTER_COLUMNS
from events.db import create_engine
from events.sql_store import SqlEventStore
from events.timetravel import census_as_of
from tests.integration.cli.helpers import rows, with_db

IMPORT_HEADER = "name,email,track,level,hired_on,prior_years,manager_email,experience_exception\n"


def read_csv(file: Path) -> tuple[list[str], list[dict[str, str]]]:
    with file.open(newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        found = list(reader)
        return list(reader.fieldnames or ()), found


def census(url: str, on: date) -> dict[tuple[str, str], int]:
    async def main() -> dict[tuple[str, str], int]:
        engine = create_engine(url)
        try:
            return (await census_as_of(SqlEventStore(engine), as_of=on)).headcount
        finally:
            await engine.dispose()

    return asyncio.run(main())


def test_the_roster_has_a_header_and_everyone_by_name(demo_db: str, tmp_path: Path) -> None:
    file = tmp_path / "roster.csv"
    ran = with_db(demo_db, "export-roster", str(file))
    assert ran.exit_code == 0, ran.stderr
    header, found = read_csv(file)
    assert tuple(header) == ROSTER_COLUMNS
    assert len(found) == 8
    assert [(r["name"], r["person_id"]) for r in found] == sorted(
        (r["name"], r["person_id"]) for r in found
    )
    assert file.read_bytes().count(b"\r\n") == 9  # the csv module's line ends, one per row


def test_the_roster_of_a_past_day_counts_what_the_log_replays(demo_db: str, tmp_path: Path) -> None:
    for day in (date(2020, 6, 1), date(2022, 3, 1), date(2024, 1, 1)):
        file = tmp_path / f"roster-{day}.csv"
        ran = with_db(demo_db, "export-roster", "--as-of", day.isoformat(), str(file))
        assert ran.exit_code == 0, ran.stderr
        _, found = read_csv(file)
        active = Counter((r["track"], r["level_key"]) for r in found if r["status"] == "active")
        assert dict(active) == census(demo_db, day)
        assert {r["as_of"] for r in found} == {day.isoformat()}
        assert all(r["hired_on"] <= day.isoformat() for r in found)


def test_the_history_of_everyone_is_every_career_event_once_in_order(
    demo_db: str, tmp_path: Path
) -> None:
    file = tmp_path / "history.csv"
    ran = with_db(demo_db, "export-history", "--all", str(file))
    assert ran.exit_code == 0, ran.stderr
    header, found = read_csv(file)
    assert tuple(header) == HISTORY_COLUMNS
    logged = {str(UUID(str(r["event_id"]))): r for r in rows(demo_db)}
    assert len({r["event_id"] for r in found}) == len(found) > 8
    for row in found:
        event = logged[row["event_id"]]
        assert event["stream"] == f"person-{row['person_id']}"
        assert (event["type"], event["position"]) == (row["type"], int(row["position"]))
        assert json.loads(row["details"])["effective_on"] == row["effective_on"]
    hires = [r for r in found if r["type"] == "PersonHired"]
    assert len(hires) == 8
    people = list(dict.fromkeys(r["person_id"] for r in found))
    for person in people:  # person by person, each in effective then log order
        mine = [r for r in found if r["person_id"] == person]
        keys = [(r["effective_on"], int(r["position"])) for r in mine]
        assert keys == sorted(keys)
    names = [next(r["name"] for r in found if r["person_id"] == p) for p in people]
    assert names == sorted(names)


def test_the_history_of_one_person_by_email_or_id(demo_db: str, tmp_path: Path) -> None:
    everyone = tmp_path / "all.csv"
    assert with_db(demo_db, "export-history", "--all", str(everyone)).exit_code == 0
    _, found = read_csv(everyone)
    first = found[0]
    email = json.loads(first["details"])["email"]
    by_email, by_id = tmp_path / "by-email.csv", tmp_path / "by-id.csv"
    assert with_db(demo_db, "export-history", email, str(by_email)).exit_code == 0
    assert with_db(demo_db, "export-history", first["person_id"], str(by_id)).exit_code == 0
    mine = [r for r in found if r["person_id"] == first["person_id"]]
    assert read_csv(by_email)[1] == read_csv(by_id)[1] == mine


def test_cells_that_start_like_a_formula_are_written_as_text(db_url: str, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text(
        IMPORT_HEADER
        + '"=HYPERLINK(""http://x.example"")",eq@example.com,product,apm,2024-02-01,0,,\n'
        + "+Plus Sign,plus@example.com,product,apm,2024-02-01,0,,\n"
        + "@Handle,at@example.com,product,apm,2024-02-01,0,,\n"
        + "-Dash,dash@example.com,product,apm,2024-02-01,0,,\n"
        + "Plain Name,plain@example.com,product,apm,2024-02-01,0,,\n"
    )
    ran = with_db(db_url, "import-people", str(people))
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    file = tmp_path / "roster.csv"
    assert with_db(db_url, "export-roster", str(file)).exit_code == 0
    _, found = read_csv(file)
    assert sorted(r["name"] for r in found) == sorted(
        ['\'=HYPERLINK("http://x.example")', "'+Plus Sign", "'@Handle", "'-Dash", "Plain Name"]
    )
    history = tmp_path / "history.csv"
    assert with_db(db_url, "export-history", "--all", str(history)).exit_code == 0
    _, events = read_csv(history)
    assert {r["name"][0] for r in events} == {"'", "P"}


def test_export_history_needs_a_person_or_all(demo_db: str, tmp_path: Path) -> None:
    file = str(tmp_path / "h.csv")
    assert with_db(demo_db, "export-history", file).exit_code == 2
    assert with_db(demo_db, "export-history", "--all").exit_code == 2
    unknown = with_db(demo_db, "export-history", "nobody@example.com", file)
    assert unknown.exit_code == 3 and "no person nobody@example.com" in unknown.stderr
    stranger = "00000000-0000-4000-8000-000000000000"
    assert with_db(demo_db, "export-history", stranger, file).exit_code == 3
    assert with_db(demo_db, "export-history", "not-a-person", file).exit_code == 4


def test_a_bad_date_or_a_missing_database_is_refused(demo_db: str, tmp_path: Path) -> None:
    file = str(tmp_path / "r.csv")
    bad = with_db(demo_db, "export-roster", "--as-of", "2024-02-31", file)
    assert bad.exit_code == 4 and "--as-of" in bad.stderr
    missing = f"sqlite+aiosqlite:///{tmp_path / 'none.db'}"
    assert with_db(missing, "export-roster", file).exit_code == 3
    assert not (tmp_path / "none.db").exists()
