"""The export's cells: what a spreadsheet would run as a formula is written as text."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from api.cli.exports import spreadsheet_safe


@pytest.mark.parametrize(
    "text", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")']
)
def test_a_cell_starting_like_a_formula_gets_a_leading_quote(text: str) -> None:
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("Ana Lima", "Ana Lima"),
        ("a=b", "a=b"),
        (None, ""),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (date(2024, 2, 1), "2024-02-01"),
        (datetime(2024, 2, 1, 9, 30, tzinfo=UTC), "2024-02-01T09:30:00+00:00"),
    ],
)
def test_other_cells_are_written_as_they_are(value: object, cell: str) -> None:
    assert spreadsheet_safe(value) == cell
