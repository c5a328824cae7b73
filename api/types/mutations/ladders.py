"""``publishLadder``: record a new version of a track's ladder."""

from __future__ import annotations

from typing import Any, Self

import strawberry

from api.context import Info
from api.types.ladder import Ladder
from api.types.mutations.common import (
    InvalidMutationInput,
    MutationPayload,
    expected_version_field,
    idempotency_key_field,
    mutation,
)
from api.types.mutations.write import write
from domain import commands as c
from domain import ladder as domain_ladder
from events.results import CommandResult


@strawberry.input(description="One level of a ladder, lowest rank first.")
class LevelInput:
    key: str = strawberry.field(description="Stable lower_snake_case key.")
    title: str
    rank: int
    min_years: int
    description: str
    progression: str = ""
    experience: str = ""
    requires: list[str] = strawberry.field(
        default_factory=list,
        description="Requirements beyond years, e.g. `leadership_experience`.",
    )


@strawberry.input(description="A development area levels are judged on.")
class DevelopmentAreaInput:
    key: str
    name: str
    group: str = ""
    description: str = ""


@strawberry.input(description="Where the people on a dropped or renamed level go.")
class LevelMappingInput:
    from_level: str = strawberry.field(description="A level key of the current version.")
    to_level: str = strawberry.field(description="A level key of the new version.")


@strawberry.input(description="Publish a new version of a track's ladder (versions never change).")
class PublishLadderInput:
    track: str = strawberry.field(description="lower_snake_case track key, e.g. `engineering`.")
    name: str
    levels: list[LevelInput]
    development_areas: list[DevelopmentAreaInput] = strawberry.field(default_factory=list)
    level_mapping: list[LevelMappingInput] = strawberry.field(
        default_factory=list,
        description="For each level of the current version this one drops or renames: the "
        "level its people move to, by a `LevelMapped` event on the publish date. Required for "
        "levels people are on (else `LADDER_LEVELS_OCCUPIED`).",
    )
    idempotency_key: str | None = idempotency_key_field()
    expected_version: int | None = expected_version_field("the track's ladder stream")

    def as_dict(self) -> dict[str, Any]:
        """The shape ``domain.ladder.Ladder.from_dict`` reads (it validates everything)."""
        return {
            "track": self.track,
            "name": self.name,
            "levels": [
                {
                    "key": level.key,
                    "title": level.title,
                    "rank": level.rank,
                    "min_years": level.min_years,
                    "experience": level.experience,
                    "description": level.description,
                    "progression": level.progression,
                    "requires": level.requires,
                }
                for level in self.levels
            ],
            "development_areas": [
                {"key": a.key, "name": a.name, "group": a.group, "description": a.description}
                for a in self.development_areas
            ],
        }

    def command(self) -> c.PublishLadder:
        mapping: dict[str, str] = {}
        for step in self.level_mapping:
            if step.from_level in mapping:
                raise InvalidMutationInput(
                    f"levelMapping names {step.from_level!r} twice.", field="levelMapping"
                )
            mapping[step.from_level] = step.to_level
        return c.PublishLadder(
            ladder=domain_ladder.Ladder.from_dict(self.as_dict(), source="input"),
            level_mapping=mapping,
        )


@strawberry.type
class PublishLadderPayload(MutationPayload):
    ladder: Ladder | None = strawberry.field(
        default=None, description="The ladder version published; null when refused."
    )

    @classmethod
    def accepted(cls, result: CommandResult) -> Self:
        payload = super().accepted(result)
        published = domain_ladder.Ladder.from_dict(result.event.data["ladder"])
        payload.ladder = Ladder.from_domain(published)
        return payload


@strawberry.type
class LadderMutation:
    @mutation(description="Publish a new ladder version for a track (HR only).")
    async def publish_ladder(
        self, info: Info, input: PublishLadderInput
    ) -> PublishLadderPayload | None:
        return await write(info, input, PublishLadderPayload)
