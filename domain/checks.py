"""The decision context and the small checks every decision shares."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from domain import commands as cmd
from domain import errors
from domain import events as ev
from domain import text as strings
from domain.career import ACTIVE, Career
from domain.ladder import Ladder, Level
from domain.state import PersonState

MAX_NAME = 200
MAX_TEXT = 2000
MAX_GOALS = 20
MAX_PRIOR_YEARS = 70.0
EARLIEST_EFFECTIVE_ON = date(1900, 1, 1)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """What a decision needs besides the state: today's date, the current ladders."""

    today: date
    ladders: Mapping[str, Ladder]
    """Track -> the latest published ladder of that track."""
    max_mentees: int = 5

    @property
    def latest_effective_on(self) -> date:
        """Effective dates may be at most one year ahead of today."""
        return one_year_after(self.today)

    def ladder(self, track: str, field: str = "track") -> Ladder:
        found = self.ladders.get(track)
        if found is None:
            raise errors.UnknownTrack(
                f"no ladder is published for track {track!r}", field=field, ids={"track": track}
            )
        return found


def one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def text(value: object, field: str, *, max_len: int = MAX_TEXT) -> str:
    """A required text, stripped; raises ``InvalidInput``. Texts up to ``MAX_NAME`` are
    one line; longer (free) texts may hold tabs and line breaks."""
    if not isinstance(value, str) or not value.strip():
        raise errors.InvalidInput(f"{field} must not be empty", field=field)
    why = strings.problem(value, max_len, multiline=max_len > MAX_NAME)
    if why is not None:
        raise errors.InvalidInput(f"{field} {why}", field=field)
    return value.strip()


def optional_text(value: str | None, field: str) -> str | None:
    """An optional free text: blank means absent."""
    if value is None or not value.strip():
        return None
    return text(value, field)


def email(value: object, field: str = "email") -> str:
    address = text(value, field, max_len=MAX_NAME)
    if not EMAIL.match(address):
        raise errors.InvalidInput(f"{address!r} is not an email address", field=field)
    return address


def email_set_by(state: PersonState, command: object) -> str | None:
    """The email address ``command`` would give the person, if it gives one: a hire's, or
    a correction of the hire's email."""
    if isinstance(command, cmd.HirePerson):
        return command.email
    if isinstance(command, cmd.CorrectEvent) and isinstance(command.changes.get("email"), str):
        target = state.corrected_facts.get(command.target_event_id)
        if isinstance(target, ev.PersonHired):
            return str(command.changes["email"])
    return None


def email_unused(person_id: UUID, address: str, owners: set[UUID]) -> None:
    """Refuse ``address`` when someone other than ``person_id`` has it (``owners``: the
    people with that address, compared without case)."""
    others = owners - {person_id}
    if others:
        raise errors.EmailAlreadyUsed(
            f"{address} is already the email of another person",
            ids={"personId": person_id, "otherPersonId": min(others)},
        )


def prior_years(value: object, field: str = "priorYears") -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= MAX_PRIOR_YEARS
    ):
        raise errors.InvalidInput(
            f"prior years must be a number from 0 to {MAX_PRIOR_YEARS:g}", field=field
        )
    return float(value)


def level_of(ladder: Ladder, key: str, field: str) -> Level:
    if not ladder.has_level(key):
        raise errors.UnknownLevel(
            f"level {key!r} is not on the {ladder.track} ladder (version {ladder.version})",
            field=field,
            ids={"track": ladder.track, "level": key},
        )
    return ladder.level(key)


def area(ladder: Ladder, key: str, field: str) -> str:
    if key not in ladder.area_keys:
        known = ", ".join(sorted(ladder.area_keys))
        raise errors.InvalidInput(
            f"{key!r} is not a development area of the {ladder.track} ladder ({known})",
            field=field,
            ids={"track": ladder.track, "developmentArea": key},
        )
    return key


def not_self_managed(person_id: UUID, manager_id: UUID | None) -> None:
    if manager_id is not None and manager_id == person_id:
        raise errors.InvalidInput("a person cannot be their own manager", field="managerId")


def existing(state: PersonState, person_id: UUID, field: str = "personId") -> Career:
    """The person's career; raises ``PersonNotFound``."""
    if not state.exists or state.person_id != person_id:
        raise errors.PersonNotFound(
            f"no person {person_id}", field=field, ids={"personId": person_id}
        )
    return state.career


def active_on(
    state: PersonState,
    person_id: UUID,
    on: date,
    ctx: DecisionContext,
    *,
    field: str = "personId",
    date_field: str = "effectiveOn",
) -> Career:
    """The career of an active person, with ``on`` inside the allowed window."""
    career = existing(state, person_id, field)
    ids = {"personId": person_id}
    if career.status != ACTIVE:
        departed_on = career.departed_on
        if departed_on is not None and on > departed_on:
            raise errors.EffectiveDateAfterDeparture(
                f"{on} is after the departure on {departed_on}", field=date_field, ids=ids
            )
        raise errors.PersonDepartedError(
            f"person {person_id} departed on {departed_on}; only a rehire or a correction "
            "can be recorded",
            field=field,
            ids=ids,
        )
    within_window(career, on, ctx, date_field=date_field, ids=ids)
    return career


def within_window(
    career: Career,
    on: date,
    ctx: DecisionContext,
    *,
    date_field: str = "effectiveOn",
    ids: Mapping[str, object],
) -> None:
    since = career.employed_since
    if since is not None and on < since:
        raise errors.EffectiveDateBeforeHire(
            f"{on} is before the hire on {since}", field=date_field, ids=ids
        )
    not_too_far_ahead(on, ctx, date_field=date_field, ids=ids)


def not_too_far_ahead(
    on: date, ctx: DecisionContext, *, date_field: str, ids: Mapping[str, object]
) -> None:
    """``on`` lies between ``EARLIEST_EFFECTIVE_ON`` and a year after today."""
    if on < EARLIEST_EFFECTIVE_ON:
        raise errors.InvalidInput(
            f"{on} is before {EARLIEST_EFFECTIVE_ON}", field=date_field, ids=ids
        )
    if on > ctx.latest_effective_on:
        raise errors.EffectiveDateTooFarAhead(
            f"{on} is more than a year after {ctx.today}", field=date_field, ids=ids
        )
