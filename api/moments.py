"""One meaning for a point in time given as text, in GraphQL and in the CLI alike.

``knownAt`` (GraphQL) and ``--known-at`` (CLI), and every other date-time argument, take
an ISO 8601 time or a bare date:

* a time with a zone (``2021-01-10T09:30:00+01:00``, ``...Z``) is that instant;
* a time without a zone (``2021-01-10T09:30``) is in UTC;
* a bare date (``2021-01-10``) is the **end of that day in UTC** (23:59:59.999999), so
  "known at 10 January" includes everything recorded on 10 January.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

BARE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

DATETIME_DESCRIPTION = (
    "Date with time (ISO 8601). Without a zone it is UTC; a bare date (`2021-01-10`) means "
    "the end of that day in UTC."
)


def parse_moment(text: str) -> datetime:
    """The aware UTC instant ``text`` names (see the module); ValueError if it names none."""
    text = text.strip()
    if BARE_DATE.match(text):
        return datetime.combine(date.fromisoformat(text), time.max, tzinfo=UTC)
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
