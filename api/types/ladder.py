"""``Ladder``, ``Level`` and ``DevelopmentArea``, and the public ``ladder``/``levels`` queries.

Ladders come from the services (published versions, from the read model); when no
services are wired, from the files shipped in ``domain/data``. The ladder and its levels
are public: no token needed.
"""

from __future__ import annotations

from typing import ClassVar

import strawberry

from api.context import Context, Info
from api.fields import field
from api.relay import node_resolver
from api.types.node import Node
from domain import ladder as domain_ladder
from domain.errors import UnknownTrack


async def find_ladder_version(
    context: Context, track: str, version: int | None
) -> domain_ladder.Ladder | None:
    """Version ``version`` of ``track``'s ladder (None: the current one; null if unknown)."""
    if version is None:
        return await find_ladder(context, track)
    services = context.services
    if services is not None:
        return await services.ladder_version(track, version)
    found = await find_ladder(context, track)
    return found if found is not None and found.version == version else None


async def level_in_version(
    context: Context, track: str | None, version: int | None, key: str | None
) -> Level | None:
    """The ``Level`` of ``key`` as version ``version`` of the ladder defined it (null if it
    had no such level)."""
    if not track or not key:
        return None
    ladder = await find_ladder_version(context, track, version)
    if ladder is None or not ladder.has_level(key):
        return None
    return Level.from_domain(ladder.level(key), ladder)


async def find_ladder(context: Context, track: str) -> domain_ladder.Ladder | None:
    services = context.services
    if services is not None:
        return await services.current_ladder(track)
    if not domain_ladder.KEY_PATTERN.match(track):
        return None
    if not (domain_ladder.DATA_DIR / f"{track}.toml").is_file():
        return None
    return domain_ladder.bundled_ladder(track)


@strawberry.type(description="A skill area levels are judged on.")
class DevelopmentArea:
    key: str
    name: str
    group: str
    description: str

    @classmethod
    def from_domain(cls, area: domain_ladder.DevelopmentArea) -> DevelopmentArea:
        return cls(key=area.key, name=area.name, group=area.group, description=area.description)


_KEPT_LADDERS = 256
_LEVELS: dict[int, tuple[domain_ladder.Ladder, dict[str, Level]]] = {}
"""``Level.of``'s objects per ladder (by identity; the ladder is kept to check it)."""


@strawberry.type(description="One rung of a career ladder.")
class Level(Node):
    node_type: ClassVar[str] = "Level"

    track: str = strawberry.field(description="The ladder's track, e.g. `product`.")
    key: str = strawberry.field(description="Stable key, e.g. `senior_pm`.")
    title: str
    rank: int = strawberry.field(description="Position on the ladder, increasing upwards.")
    min_years: int = strawberry.field(description="Minimum years of experience for the level.")
    experience: str = strawberry.field(description="The ladder's own experience wording.")
    description: str
    progression: str = strawberry.field(description="What it takes to move up from here.")
    requires: list[str] = strawberry.field(
        description="What reaching this level needs beyond years, e.g. "
        "`leadership_experience` (24 months in the level below); waived only by an "
        "experience exception."
    )
    _ladder: strawberry.Private[domain_ladder.Ladder]

    def raw_id(self) -> str:
        return f"{self.track}:{self.key}"

    @field(description="The level right above this one; null at the top.")
    def next_level(self) -> Level | None:
        above = self._ladder.next_level(self.key)
        return None if above is None else Level.from_domain(above, self._ladder)

    @classmethod
    def of(cls, ladder: domain_ladder.Ladder, key: str) -> Level | None:
        """The level ``key`` of ``ladder`` (``None`` if it has none): made once per ladder
        and level, a ladder (a published version) never changes."""
        levels = _LEVELS.get(id(ladder))
        if levels is None or levels[0] is not ladder:
            levels = (ladder, {lv.key: cls.from_domain(lv, ladder) for lv in ladder.levels})
            if len(_LEVELS) >= _KEPT_LADDERS:
                _LEVELS.clear()
            _LEVELS[id(ladder)] = levels
        return levels[1].get(key)

    @classmethod
    def from_domain(cls, level: domain_ladder.Level, ladder: domain_ladder.Ladder) -> Level:
        return cls(
            track=ladder.track,
            key=level.key,
            title=level.title,
            rank=level.rank,
            min_years=level.min_years,
            experience=level.experience,
            description=level.description,
            progression=level.progression,
            requires=list(level.requires),
            _ladder=ladder,
        )


@strawberry.type(description="A track's career ladder: ordered levels and development areas.")
class Ladder(Node):
    node_type: ClassVar[str] = "Ladder"

    track: str
    version: int
    name: str
    _ladder: strawberry.Private[domain_ladder.Ladder]

    def raw_id(self) -> str:
        return self.track

    @field(description="The levels, lowest rank first.")
    def levels(self) -> list[Level]:
        return [Level.from_domain(level, self._ladder) for level in self._ladder.levels]

    @field(description="The level with this key, or null.")
    def level(self, key: str) -> Level | None:
        if not self._ladder.has_level(key):
            return None
        return Level.from_domain(self._ladder.level(key), self._ladder)

    @strawberry.field
    def development_areas(self) -> list[DevelopmentArea]:
        return [DevelopmentArea.from_domain(a) for a in self._ladder.development_areas]

    @classmethod
    def from_domain(cls, ladder: domain_ladder.Ladder) -> Ladder:
        return cls(track=ladder.track, version=ladder.version, name=ladder.name, _ladder=ladder)


@strawberry.type
class LadderQuery:
    @field(
        description="A track's ladder: the current one, or version `version` as it was "
        "published; null for an unknown track or version."
    )
    async def ladder(self, info: Info, track: str, version: int | None = None) -> Ladder | None:
        found = await find_ladder_version(info.context, track, version)
        return None if found is None else Ladder.from_domain(found)

    @field(
        description="The levels of a track (of version `version`, default the current one), "
        "lowest rank first."
    )
    async def levels(self, info: Info, track: str, version: int | None = None) -> list[Level]:
        found = await find_ladder_version(info.context, track, version)
        if found is None:
            what = f"{track!r} ladder" + ("" if version is None else f" version {version}")
            raise UnknownTrack(f"There is no {what}.", ids={"track": track})
        return [Level.from_domain(level, found) for level in found.levels]


@node_resolver("Ladder")
async def _ladder_node(context: Context, raw_id: str) -> Ladder | None:
    found = await find_ladder(context, raw_id)
    return None if found is None else Ladder.from_domain(found)


@node_resolver("Level")
async def _level_node(context: Context, raw_id: str) -> Level | None:
    track, _, key = raw_id.partition(":")
    found = await find_ladder(context, track)
    if found is None or not found.has_level(key):
        return None
    return Level.from_domain(found.level(key), found)
