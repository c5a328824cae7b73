"""Conditions checked under the append lock, in the append's own transaction.

An expected version protects a decision that read one stream. Some rules read more than
streams: "nobody else has this email" asks who has an address, and two hires of the
same address write two different new streams, so no expected version can tell them
apart. Such a rule passes the store a condition; the store runs it after taking the
log's write lock (SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's advisory lock) and before
writing anything, so it sees every append committed before and none can slip in after.
A condition raises (a ``LadderError`` saying why) to refuse the whole append.

Rules that read whole streams need no condition: the service adds the streams it read
to the append as checks (a ``StreamAppend`` with no events and the version it read).
"""

from __future__ import annotations

import sqlite3
from typing import Any, Protocol


class AppendCondition(Protocol):
    """Checked with the write lock held; raises to refuse the append."""

    def check_sqlite(self, conn: sqlite3.Connection) -> None:
        """On SQLite's writer connection (its own thread)."""

    async def check_postgres(self, conn: Any) -> None:
        """On the append's asyncpg connection."""
