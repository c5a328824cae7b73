"""Career ladders: a track's ordered levels and the development areas they are judged on.

A ladder is data (``domain/data/<track>.toml``), validated on load: one ``LadderInvalid``
lists every problem found. A ladder is versioned: each publication records a
``LadderPublished`` event, and a published version never changes.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from domain import text as strings
from domain.errors import LadderInvalid, UnknownLevel

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_TRACK = "product"

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_KEY = 48
"""Track, level and development-area keys: what every read model stores for them."""
MAX_TITLE = 200
MAX_DESCRIPTION = 2000
"""Track, level and area keys: lower snake case (a track key is part of a stream name)."""

LEADERSHIP_EXPERIENCE = "leadership_experience"
REQUIREMENT_KEYS = frozenset({LEADERSHIP_EXPERIENCE})
"""What a level may require beyond years (``Level.requires``); ``domain.readiness`` says
what each means."""


@dataclass(frozen=True, slots=True)
class Level:
    key: str
    title: str
    rank: int
    """Position on the ladder; strictly increasing from the first level."""
    min_years: int
    """Minimum years of experience to hold this level (the lower bound of the range)."""
    description: str
    progression: str
    experience: str = ""
    """The ladder's own "Experience Required" wording, e.g. "12+ years, with ..."."""
    requires: tuple[str, ...] = ()
    """Requirements beyond years to reach this level (keys of ``REQUIREMENT_KEYS``)."""

    def to_dict(self) -> dict[str, Any]:
        found = {
            "key": self.key,
            "title": self.title,
            "rank": self.rank,
            "min_years": self.min_years,
            "experience": self.experience,
            "description": self.description,
            "progression": self.progression,
        }
        # Left out when empty, so ladders published before requirements read the same.
        return {**found, "requires": list(self.requires)} if self.requires else found


@dataclass(frozen=True, slots=True)
class DevelopmentArea:
    key: str
    name: str
    group: str
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "group": self.group,
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class Ladder:
    track: str
    version: int
    name: str
    levels: tuple[Level, ...]
    development_areas: tuple[DevelopmentArea, ...]

    def level(self, key: str) -> Level:
        """The level ``key``; raises ``UnknownLevel``."""
        for level in self.levels:
            if level.key == key:
                return level
        raise UnknownLevel(
            f"level {key!r} is not on the {self.track} ladder (version {self.version})",
            ids={"track": self.track, "level": key},
        )

    def has_level(self, key: str) -> bool:
        return any(level.key == key for level in self.levels)

    def next_level(self, key: str) -> Level | None:
        """The level right above ``key`` (None at the top); raises ``UnknownLevel``."""
        current = self.level(key)
        above = [lv for lv in self.levels if lv.rank > current.rank]
        return min(above, key=lambda lv: lv.rank) if above else None

    @property
    def first_level(self) -> Level:
        return self.levels[0]

    def area(self, key: str) -> DevelopmentArea | None:
        for area in self.development_areas:
            if area.key == key:
                return area
        return None

    @property
    def area_keys(self) -> frozenset[str]:
        return frozenset(a.key for a in self.development_areas)

    def with_version(self, version: int) -> Ladder:
        return Ladder(self.track, version, self.name, self.levels, self.development_areas)

    def same_content(self, other: Ladder) -> bool:
        """Equal in everything but the version."""
        return self.with_version(other.version) == other

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; the shape ``LadderPublished.ladder`` carries and ``from_dict`` reads."""
        return {
            "track": self.track,
            "version": self.version,
            "name": self.name,
            "levels": [level.to_dict() for level in self.levels],
            "development_areas": [area.to_dict() for area in self.development_areas],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, source: str = "ladder") -> Ladder:
        """Build and validate; raises ``LadderInvalid`` listing every problem."""
        problems: list[str] = []
        ladder = _parse(d, problems)
        if ladder is None or problems:
            raise LadderInvalid(problems, source=source)
        return ladder


def _text(d: Mapping[str, Any], name: str, where: str, problems: list[str]) -> str:
    value = d.get(name)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: {name} must be a non-empty string")
        return ""
    if (why := strings.problem(value, MAX_TITLE)) is not None:
        problems.append(f"{where}: {name} {why}")
        return ""
    return value


def _optional_text(d: Mapping[str, Any], name: str, where: str, problems: list[str]) -> str:
    value = d.get(name, "")
    if not isinstance(value, str):
        problems.append(f"{where}: {name} must be a string")
        return ""
    if (why := strings.problem(value, MAX_DESCRIPTION, multiline=True)) is not None:
        problems.append(f"{where}: {name} {why}")
        return ""
    return value


def _key_problem(key: str) -> str | None:
    if not KEY_PATTERN.match(key):
        return "must be lower snake case ([a-z][a-z0-9_]*)"
    if len(key) > MAX_KEY:
        return f"is longer than {MAX_KEY} characters"
    return None


def _int(d: Mapping[str, Any], name: str, where: str, problems: list[str]) -> int | None:
    value = d.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append(f"{where}: {name} must be an integer")
        return None
    return value


def _key(d: Mapping[str, Any], where: str, problems: list[str]) -> str:
    key = _text(d, "key", where, problems)
    if key and (why := _key_problem(key)) is not None:
        problems.append(f"{where}: key {key[:MAX_KEY]!r} {why}")
    return key


def _parse(d: Mapping[str, Any], problems: list[str]) -> Ladder | None:
    if not isinstance(d, Mapping):
        problems.append("a ladder must be a table")
        return None
    track = _text(d, "track", "ladder", problems)
    if track and (why := _key_problem(track)) is not None:
        problems.append(f"ladder: track {track[:MAX_KEY]!r} {why}")
    name = _text(d, "name", "ladder", problems)
    version = d.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append("ladder: version must be a positive integer")
        version = 1
    levels = _parse_levels(d.get("levels"), problems)
    areas = _parse_areas(d.get("development_areas", []), problems)
    if problems:
        return None
    return Ladder(track, version, name, levels, areas)


def _parse_levels(raw: object, problems: list[str]) -> tuple[Level, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append("ladder: at least one level is required")
        return ()
    levels: list[Level] = []
    seen: set[str] = set()
    previous: Level | None = None
    for index, item in enumerate(raw, start=1):
        where = f"level {index}"
        if not isinstance(item, Mapping):
            problems.append(f"{where}: must be a table")
            continue
        key = _key(item, where, problems)
        where = f"level {index} ({key})" if key else where
        if key and key in seen:
            problems.append(f"{where}: duplicate key {key!r}")
        seen.add(key)
        title = _text(item, "title", where, problems)
        rank = _int(item, "rank", where, problems)
        min_years = _int(item, "min_years", where, problems)
        if min_years is not None and min_years < 0:
            problems.append(f"{where}: min_years must not be negative")
        level = Level(
            key=key,
            title=title,
            rank=rank if rank is not None else 0,
            min_years=min_years if min_years is not None else 0,
            description=_optional_text(item, "description", where, problems),
            progression=_optional_text(item, "progression", where, problems),
            experience=_optional_text(item, "experience", where, problems),
            requires=_requirements(item, where, problems),
        )
        if previous is not None and rank is not None and min_years is not None:
            if level.rank <= previous.rank:
                problems.append(
                    f"{where}: rank {level.rank} must be above the previous level's "
                    f"rank {previous.rank}"
                )
            if level.min_years < previous.min_years:
                problems.append(
                    f"{where}: min_years {level.min_years} must not be below the previous "
                    f"level's {previous.min_years}"
                )
        if rank is not None and min_years is not None:
            previous = level
        levels.append(level)
    return tuple(levels)


def _requirements(d: Mapping[str, Any], where: str, problems: list[str]) -> tuple[str, ...]:
    raw = d.get("requires", [])
    if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
        problems.append(f"{where}: requires must be a list of strings")
        return ()
    for key in raw:
        if key not in REQUIREMENT_KEYS:
            known = ", ".join(sorted(REQUIREMENT_KEYS))
            problems.append(f"{where}: unknown requirement {key!r} (known: {known})")
    return tuple(raw)


def _parse_areas(raw: object, problems: list[str]) -> tuple[DevelopmentArea, ...]:
    if not isinstance(raw, list):
        problems.append("ladder: development_areas must be a list of tables")
        return ()
    areas: list[DevelopmentArea] = []
    seen: set[str] = set()
    for index, item in enumerate(raw, start=1):
        where = f"development area {index}"
        if not isinstance(item, Mapping):
            problems.append(f"{where}: must be a table")
            continue
        key = _key(item, where, problems)
        where = f"development area {index} ({key})" if key else where
        if key and key in seen:
            problems.append(f"{where}: duplicate key {key!r}")
        seen.add(key)
        areas.append(
            DevelopmentArea(
                key=key,
                name=_text(item, "name", where, problems),
                group=_text(item, "group", where, problems),
                description=_optional_text(item, "description", where, problems),
            )
        )
    return tuple(areas)


def load_ladder_text(toml_text: str, source: str = "ladder") -> Ladder:
    """Parse and validate a ladder written in TOML; raises ``LadderInvalid``."""
    try:
        data = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        raise LadderInvalid([f"not valid TOML: {exc}"], source=source) from exc
    return Ladder.from_dict(data, source=source)


def load_ladder_file(path: str | Path) -> Ladder:
    """Load and validate a ladder file; raises ``LadderInvalid`` (also when unreadable)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LadderInvalid([f"cannot read {path}: {exc}"], source=str(path)) from exc
    return load_ladder_text(text, source=str(path))


@cache
def default_ladder() -> Ladder:
    """The ``product`` ladder shipped in ``domain/data/product.toml``."""
    return load_ladder_file(DATA_DIR / f"{DEFAULT_TRACK}.toml")


def bundled_ladder(track: str) -> Ladder:
    """A ladder shipped in ``domain/data`` (``product``, ``engineering``)."""
    if not KEY_PATTERN.match(track):
        raise LadderInvalid([f"track {track!r} must be lower snake case"], source=track)
    return load_ladder_file(DATA_DIR / f"{track}.toml")
