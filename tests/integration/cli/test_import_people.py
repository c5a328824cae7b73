"""``ladder import-people FILE.csv [--dry-run]``: one line per bad row, exit 4 and nothing
written; a clean file hired once."""

from __future__ import annotations

from pathlib import Path

from tests.integration.cli.helpers import count, with_db

HEADER = "name,email,track,level,hired_on,prior_years,manager_email,experience_exception\n"


def test_a_dry_run_prints_each_bad_row_on_one_line_and_writes_nothing(
    db_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "people.csv"
    file.write_text(
        HEADER
        + "Rae,rae@example.com,product,wizard,2024-02-01,0,,\n"
        + "Mia,mia@example.com,product,apm,2024-02-31,0,,\n"
        + "Sam,sam@example.com,product,apm,2024-02-01,0,,\n"
    )
    ran = with_db(db_url, "import-people", str(file), "--dry-run")
    assert ran.exit_code == 4, ran.stderr
    assert ran.stdout.splitlines() == [
        "line 2: level: UNKNOWN_LEVEL: level 'wizard' is not on the product ladder (version 1)",
        "line 3: hired_on: VALIDATION_ERROR: not a date (YYYY-MM-DD)",
    ]
    assert "2 bad rows of 3; nothing was imported" in ran.stderr
    assert count(db_url) == 1  # the default ladder, published on first start


def test_a_clean_file_is_hired_once(db_url: str, tmp_path: Path) -> None:
    file = tmp_path / "people.csv"
    file.write_text(
        HEADER
        + "Rae,rae@example.com,product,apm,2024-02-01,0,mia@example.com,\n"
        + "Mia,mia@example.com,product,group_pm,2023-01-01,9,,\n"
    )
    dry = with_db(db_url, "import-people", str(file), "--dry-run")
    assert (dry.exit_code, dry.stdout.strip()) == (0, "2 rows valid; nothing written (dry run)")
    ran = with_db(db_url, "import-people", str(file))
    assert ran.exit_code == 0, ran.stderr
    assert "hired 2 people from 2 rows" in ran.stdout
    written = count(db_url)
    again = with_db(db_url, "import-people", str(file))
    assert again.exit_code == 0 and "already imported: 2 rows" in again.stdout
    assert count(db_url) == written
