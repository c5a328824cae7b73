"""What the projector keeps per projection, and how that compares with the log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
