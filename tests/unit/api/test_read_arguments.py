"""Keyset cursors, page sizes and person id arguments of the read side (no I/O)."""

from __future__ import annotations

import base64
from datetime import date

import pytest

from api.errors import InvalidGlobalId
from api.relay import encode_global_id
from api.scopes import parse_id_text
from api.settings import Settings
from api.types.connection import (
    DEFAULT_PAGE_SIZE,
    InvalidCursor,
    InvalidPageSize,
    connection,
    decode_cursor,
    encode_cursor,
    page_size,
)

UUID_TEXT = "6f1d7a52-0000-4000-8000-000000000001"
SETTINGS = Settings(_env_file=None, max_page_size=50)


def test_a_cursor_carries_the_sort_key_it_was_made_from() -> None:
    cursor = encode_cursor("people", ["Ada", UUID_TEXT])
    assert decode_cursor("people", cursor, (str, str)) == ["Ada", UUID_TEXT]


def test_a_date_key_round_trips_as_an_iso_string() -> None:
    cursor = encode_cursor("rotations", ["2025-01-06", UUID_TEXT])
    assert decode_cursor("rotations", cursor, (date, str)) == ["2025-01-06", UUID_TEXT]


@pytest.mark.parametrize(
    "cursor",
    [
        encode_cursor("people", ["Ada", UUID_TEXT]),  # another list's
        encode_cursor("rotations", ["not a date", UUID_TEXT]),
        encode_cursor("rotations", ["2025-01-06"]),  # too short
        encode_cursor("rotations", [20250106, UUID_TEXT]),  # wrong type
        "not base64!",
        base64.urlsafe_b64encode(b"{}").decode(),
        "A" * 600,
    ],
)
def test_a_cursor_that_does_not_belong_to_the_list_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor) as caught:
        decode_cursor("rotations", cursor, (date, str))
    assert caught.value.code == "INVALID_CURSOR"
    assert caught.value.field == "after"


def test_no_cursor_means_the_first_page() -> None:
    assert decode_cursor("people", None, (str, str)) is None


def test_first_defaults_and_is_capped() -> None:
    assert page_size(None, SETTINGS) == DEFAULT_PAGE_SIZE
    assert page_size(0, SETTINGS) == 0
    assert page_size(50, SETTINGS) == 50
    for bad in (-1, 51):
        with pytest.raises(InvalidPageSize) as caught:
            page_size(bad, SETTINGS)
        assert caught.value.field == "first"


async def _three() -> int:
    return 3


def test_a_page_knows_whether_more_rows_follow() -> None:
    rows = [("a", 1), ("b", 2), ("c", 3)]
    page = connection(
        rows,
        kind="letters",
        limit=2,
        after=None,
        key=lambda r: [r[0]],
        node=lambda r: r[1],
        total=_three,
    )
    assert [e.node for e in page.edges] == [1, 2]
    assert page.page_info.has_next_page is True
    assert page.page_info.has_previous_page is False
    assert page.page_info.end_cursor == encode_cursor("letters", ["b"])
    last = connection(
        rows[2:],
        kind="letters",
        limit=2,
        after="x",
        key=lambda r: [r[0]],
        node=lambda r: r[1],
        total=_three,
    )
    assert last.page_info.has_next_page is False
    assert last.page_info.has_previous_page is True


def test_a_person_id_is_a_global_id_or_a_uuid() -> None:
    assert parse_id_text(encode_global_id("Person", UUID_TEXT)) == UUID_TEXT
    assert parse_id_text(UUID_TEXT.upper()) == UUID_TEXT


@pytest.mark.parametrize(
    "value",
    ["", "person-1", encode_global_id("Level", "product:pm"), encode_global_id("Person", "x")],
)
def test_anything_else_is_an_invalid_id_naming_the_argument(value: str) -> None:
    with pytest.raises(InvalidGlobalId) as caught:
        parse_id_text(value, field="mentorId")
    assert caught.value.code == "INVALID_ID"
    assert caught.value.field == "mentorId"
