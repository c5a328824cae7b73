"""Fixtures of the read-model tests: a projector with every projection, started."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from events.projections import ALL
from events.projector import Projector
from events.sql_store import SqlEventStore


@pytest.fixture
async def projector(engine: AsyncEngine, store: SqlEventStore) -> Projector:
    p = Projector(engine, store, ALL)
    await p.start()
    return p
