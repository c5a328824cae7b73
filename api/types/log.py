"""``logPosition``: where the log ends now, to subscribe "from here" without a race."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.fields import field


@strawberry.type
class LogQuery:
    @field(
        description=(
            "The log's last global position now (0 when empty). Subscribe with "
            "`afterPosition` set to it to get everything committed after this answer."
        )
    )
    async def log_position(self, info: Info) -> int:
        info.context.require_principal()
        return await info.context.require_services().store.last_position()
