"""``UserError``: the typed error every mutation payload carries in its ``errors`` list."""

from __future__ import annotations

import strawberry


@strawberry.type(description="A rule the input broke. Nothing was written.")
class UserError:
    code: str = strawberry.field(description="Stable, UPPER_SNAKE error code.")
    message: str = strawberry.field(description="Human-readable explanation.")
    field: str | None = strawberry.field(
        default=None, description="The input field at fault (camelCase), if one is."
    )
