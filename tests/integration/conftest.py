"""Fixtures the integration tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from events.bootstrap import Runtime, bootstrap

TODAY = date(2026, 6, 1)
"""The day the shared runtime's service takes for today."""


@pytest.fixture
async def runtime(db_url: str) -> AsyncIterator[Runtime]:
    """A started runtime on the test's database (no LISTEN), closed after the test."""
    rt = await bootstrap(db_url, today=lambda: TODAY, listen=False)
    try:
        yield rt
    finally:
        await rt.close()
