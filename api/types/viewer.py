"""``Viewer``: who the caller is, as the API sees it (null when anonymous)."""

from __future__ import annotations

import strawberry

from api.auth import Principal, Role
from api.context import Info
from api.fields import field

strawberry.enum(Role, name="Role", description="What a caller may see and do.")


@strawberry.type(description="The authenticated caller.")
class Viewer:
    subject: str = strawberry.field(description="Person id, or the service name.")
    role: Role
    can_write: bool = strawberry.field(description="May record career events (HR).")
    can_read_audit: bool = strawberry.field(description="May read audit trails.")

    @classmethod
    def from_principal(cls, principal: Principal) -> Viewer:
        return cls(
            subject=principal.subject,
            role=principal.role,
            can_write=principal.can_write,
            can_read_audit=principal.can_read_audit,
        )


@strawberry.type
class ViewerQuery:
    @field(description="The caller; null without a token.")
    def viewer(self, info: Info) -> Viewer | None:
        principal = info.context.principal
        return None if principal is None else Viewer.from_principal(principal)
