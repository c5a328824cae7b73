"""Publishing ladder versions, and moving people whose level a new version drops.

``decide_ladder`` judges a new version against the current one and the people on each of
its levels now; ``decide_level_mapping`` says how one person moves when the version's
``level_mapping`` names their level (the application service appends both together).
"""

from __future__ import annotations

from collections.abc import Mapping

from domain import commands as cmd
from domain import errors
from domain import events as ev
from domain.career import ACTIVE
from domain.checks import DecisionContext
from domain.ladder import Ladder
from domain.state import PersonState


def decide_ladder(
    current: Ladder | None,
    command: cmd.PublishLadder,
    ctx: DecisionContext,
    occupied: Mapping[str, int] | None = None,
) -> list[ev.LadderPublished]:
    """Publish the next version of a track's ladder.

    ``occupied`` is the number of people on each level of the track now (the service reads
    it). A version that drops or renames (changes the key of) an occupied level is refused
    with ``LadderLevelsOccupied`` naming those levels: nobody may be left on a level the
    ladder no longer has.

    Publishing a ladder identical (in everything but the version) to the current one is
    refused with ``LadderUnchanged``: a published version never changes, and a new version
    that changes nothing would only make every later promotion cite a different number.
    A start-up "publish the default ladder" step can treat ``LadderUnchanged`` as done.
    """
    ladder = Ladder.from_dict(command.ladder.to_dict())  # validates
    if current is not None:
        if current.track != ladder.track:
            raise errors.InvalidInput(
                f"ladder for {ladder.track!r} cannot replace {current.track!r}",
                field="track",
                ids={"track": ladder.track},
            )
        if current.same_content(ladder):
            raise errors.LadderUnchanged(
                f"the {ladder.track} ladder is unchanged since version {current.version}",
                ids={"track": ladder.track},
            )
        mapping = _level_mapping(current, ladder, command.level_mapping)
        stranded = {
            level.key: (occupied or {}).get(level.key, 0)
            for level in current.levels
            if not ladder.has_level(level.key)
            and level.key not in mapping
            and (occupied or {}).get(level.key, 0) > 0
        }
        if stranded:
            listed = ", ".join(f"{key} ({count})" for key, count in sorted(stranded.items()))
            raise errors.LadderLevelsOccupied(
                f"the new {ladder.track} ladder drops levels people are on: {listed}; keep "
                "them, or map each to a level of the new version",
                ids={"track": ladder.track, "levels": ",".join(sorted(stranded))},
            )
    elif command.level_mapping:
        raise errors.InvalidInput(
            "a first version has no levels to map",
            field="levelMapping",
            ids={"track": ladder.track},
        )
    version = current.version + 1 if current is not None else 1
    return [
        ev.LadderPublished(
            track=ladder.track,
            version=version,
            ladder=ladder.with_version(version).to_dict(),
            effective_on=ctx.today,
            level_mapping=dict(command.level_mapping) or None,
        )
    ]


def _level_mapping(current: Ladder, new: Ladder, mapping: Mapping[str, str]) -> dict[str, str]:
    """``mapping`` checked: each old key is a level of ``current`` the new version drops,
    each new key a level of ``new``; raises ``InvalidInput`` (field ``levelMapping``)."""
    for old_key, new_key in mapping.items():
        if not current.has_level(old_key):
            problem = f"{old_key!r} is not a level of version {current.version}"
        elif new.has_level(old_key):
            problem = f"{old_key!r} is still a level of the new version: nobody moves"
        elif not new.has_level(new_key):
            problem = f"{new_key!r} is not a level of the new version"
        else:
            continue
        raise errors.InvalidInput(problem, field="levelMapping", ids={"track": new.track})
    return dict(mapping)


def decide_level_mapping(
    state: PersonState, published: ev.LadderPublished
) -> ev.LevelMapped | None:
    """The move of one person that a published version's ``level_mapping`` asks for: when,
    on the publish date, they are employed on one of its old levels of that track; None
    otherwise. Never raises."""
    mapping = published.level_mapping or {}
    on = published.effective_on
    career = state.view_on(on)
    if (
        state.person_id is None
        or career.status != ACTIVE
        or career.track != published.track
        or career.level not in mapping
    ):
        return None
    return ev.LevelMapped(
        person_id=state.person_id,
        effective_on=on,
        track=published.track,
        from_level=career.level,
        to_level=mapping[career.level],
        ladder_version=published.version,
    )
