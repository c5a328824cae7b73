"""The Relay ``Node`` interface and the ``node``/``nodes`` root fields."""

from __future__ import annotations

from typing import ClassVar

import strawberry

from api.context import Info
from api.errors import ApiError
from api.fields import field
from api.relay import encode_global_id, resolve_node


@strawberry.interface(description="An object with a globally unique, opaque ID.")
class Node:
    node_type: ClassVar[str] = ""

    @field(description="The object's opaque, globally unique ID.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_global_id(self.node_type, self.raw_id()))

    def raw_id(self) -> str:
        """The type-local id the global ID wraps; every Node type defines it."""
        raise NotImplementedError


class TooManyIds(ApiError):
    code = "TOO_MANY_IDS"


@strawberry.type
class NodeQuery:
    @field(description="The object with this ID, or null if there is none you may see.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        found = await resolve_node(info.context, id)
        return found if isinstance(found, Node) else None

    @field(description="The objects with these IDs, in order (null where not found).")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        limit = info.context.settings.max_page_size
        if len(ids) > limit:
            raise TooManyIds(f"Ask for at most {limit} IDs at a time.", field="ids")
        found = [await resolve_node(info.context, gid) for gid in ids]
        return [obj if isinstance(obj, Node) else None for obj in found]
