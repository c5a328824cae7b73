"""``api.moments.parse_moment``: the one reading of a time given as text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.moments import parse_moment


def test_a_bare_date_means_the_end_of_that_day_in_utc() -> None:
    assert parse_moment("2021-01-10") == datetime(2021, 1, 10, 23, 59, 59, 999999, tzinfo=UTC)


def test_a_time_without_a_zone_is_utc() -> None:
    assert parse_moment("2021-01-10T09:30") == datetime(2021, 1, 10, 9, 30, tzinfo=UTC)


def test_a_time_with_a_zone_is_that_instant_in_utc() -> None:
    assert parse_moment("2021-01-10T09:30:00+01:00") == datetime(2021, 1, 10, 8, 30, tzinfo=UTC)
    assert parse_moment("2021-01-10T09:30:00Z") == datetime(2021, 1, 10, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "yesterday", "2021-13-01", "2021-01-10T25:00"])
def test_text_that_names_no_time_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r".+"):
        parse_moment(text)
