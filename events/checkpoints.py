"""What the projector keeps per projection, and how that compares with the log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from events.readmodels.tables import checkpoints
from events.schema import events_table as E

if TYPE_CHECKING:
    from events.projections.base import Projection


@dataclass(frozen=True, slots=True)
class Checkpoint:
    name: str
    version: int
    position: int
    applied_count: int
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class Consistency:
    """A projection's checkpoint compared with the log."""

    name: str
    position: int
    applied_count: int
    expected_count: int
    """Events of the types it handles in the log up to its position."""
    pending: int
    """Events of the types it handles in the log after its position."""

    @property
    def behind(self) -> bool:
        return self.pending > 0

    @property
    def skipped(self) -> bool:
        """Applied fewer (or more) events than the log holds up to its position."""
        return self.applied_count != self.expected_count

    @property
    def ok(self) -> bool:
        return not self.behind and not self.skipped


@dataclass(frozen=True, slots=True)
class Lag:
    """How far a projection trails the log (``events.checkpoints.lag``)."""

    name: str
    events: int
    """Events of the types it handles recorded after its checkpoint."""
    oldest_pending_at: datetime | None
    """When the oldest of those was recorded (``None`` when it is up to date)."""

    def seconds(self, now: datetime) -> float:
        """How long the oldest pending event has waited; 0 when none waits."""
        if self.oldest_pending_at is None:
            return 0.0
        recorded = self.oldest_pending_at
        if recorded.tzinfo is None:  # SQLite hands back naive UTC times
            recorded = recorded.replace(tzinfo=UTC)
        return max(0.0, (now - recorded).total_seconds())


async def lag(engine: AsyncEngine, projections: Sequence[Projection]) -> list[Lag]:
    """Each projection's lag behind the log: one indexed range count per projection.

    Cheap while projections keep up (it reads only the events after each checkpoint), so
    it can run on every metrics scrape; ``Projector.check_consistency`` is the full audit.
    """
    reports: list[Lag] = []
    async with engine.connect() as conn:
        names = await conn.execute(sa.select(checkpoints.c.name, checkpoints.c.position))
        stored = {name: position for name, position in names}
        for p in projections:
            position = stored.get(p.name, 0)
            query = sa.select(sa.func.count(), sa.func.min(E.c.recorded_at)).where(
                E.c.position > position, E.c.type.in_(p.types)
            )
            count, oldest = (await conn.execute(query)).one()
            reports.append(Lag(p.name, int(count), oldest if count else None))
    return reports
