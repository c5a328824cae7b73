"""The write path's cached insert (``row_inserter``) binds what the bulk insert binds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from events.bulk import insert_plan, row_inserter
from events.readmodels import tables

ROWS: list[dict[str, Any]] = [
    {
        "event_id": f"00000000-0000-4000-8000-00000000000{i}",
        "person_id": "11111111-1111-4111-8111-111111111111",
        "position": 10 + i,
        "stream_version": i,
        "type": "PromotionRecorded",
        "effective_on": date(2020, 1, 6 + i),
        "recorded_at": datetime(2024, 5, 1, 12, 0, i, tzinfo=UTC),
        "actor_id": "hr",
        "track": "product",
        "from_level": "apm",
        "level": "pm",
        "experience_exception": None,
        "evidence": [{"kind": "doc", "text": f"e{i}"}],
        "data": {"rationale": "led", "n": i},
    }
    for i in range(3)
]


DIALECTS: list[Dialect] = [sqlite.dialect(), postgresql.dialect()]  # type: ignore[no-untyped-call]


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: str(d.name))
def test_the_cached_row_function_binds_what_the_bulk_plan_binds(dialect: Dialect) -> None:
    table = tables.timeline
    rows = [{c.name: row.get(c.name) for c in table.columns} for row in ROWS]
    bulk_sql, bulk_tuples = insert_plan(table, rows, dialect)
    sql, make = row_inserter(table, dialect)
    assert sql == bulk_sql
    assert sorted(map(make, rows)) == sorted(bulk_tuples)
    assert row_inserter(table, dialect)[1] is make  # built once
