"""Deciding: commands against one person's state -> events, or a ``LadderError``.

Every rule of the career domain is checked here before anything is written. Level
changes (hire, promotion, demotion, lateral move, rehire, departure) are recorded in
effective-date order, so the level a change starts from is the person's latest level.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from domain import checks, errors
from domain import commands as cmd
from domain import events as ev
from domain.career import Career
from domain.checks import DecisionContext
from domain.corrections import decide_correction, decide_rescind
from domain.ladder import Ladder, Level
from domain.personal_data import decide_erasure
from domain.readiness import LEADERSHIP_MONTHS, months_between, unmet_requirements
from domain.state import PersonState

EXPERIENCE_TOLERANCE = 1e-9


def decide(
    state: PersonState, command: cmd.PersonCommand, ctx: DecisionContext
) -> list[ev.PersonEvent]:
    """The events ``command`` records in the person's stream; raises ``LadderError``."""
    match command:
        case cmd.HirePerson():
            return [_hire(state, command, ctx)]
        case cmd.RecordPromotion():
            return [_promote(state, command, ctx)]
        case cmd.RecordDemotion():
            return [_demote(state, command, ctx)]
        case cmd.RecordLateralMove():
            return [_move(state, command, ctx)]
        case cmd.StartRotation():
            return [_start_rotation(state, command, ctx)]
        case cmd.EndRotation():
            return [_end_rotation(state, command, ctx)]
        case cmd.RecordTraining():
            return [_training(state, command, ctx)]
        case cmd.RecordDeparture():
            return _depart(state, command, ctx)
        case cmd.RehirePerson():
            return [_rehire(state, command, ctx)]
        case cmd.ChangeManager():
            return [_change_manager(state, command, ctx)]
        case cmd.CorrectEvent():
            return [decide_correction(state, command, ctx)]
        case cmd.RescindEvent():
            return [decide_rescind(state, command, ctx)]
        case cmd.ErasePersonalData():
            return [decide_erasure(state, command, ctx.today)]
    raise TypeError(f"decide does not take {type(command).__name__}")


def _hire(state: PersonState, c: cmd.HirePerson, ctx: DecisionContext) -> ev.PersonHired:
    if state.version > 0:
        raise errors.PersonAlreadyExists(
            f"person {c.person_id} already exists", ids={"personId": c.person_id}
        )
    name = checks.text(c.name, "name", max_len=checks.MAX_NAME)
    email = checks.email(c.email)
    years = checks.prior_years(c.prior_years)
    ladder = ctx.ladder(c.track)
    level = checks.level_of(ladder, c.level, "level")
    checks.not_too_far_ahead(c.hired_on, ctx, date_field="hiredOn", ids={"personId": c.person_id})
    checks.not_self_managed(c.person_id, c.manager_id)
    ids = {"personId": c.person_id, "level": level.key}
    exception = _waived(years, level, c.hired_on, c.experience_exception, ids)
    return ev.PersonHired(
        person_id=c.person_id,
        effective_on=c.hired_on,
        name=name,
        email=email,
        track=ladder.track,
        level=level.key,
        prior_years=years,
        manager_id=c.manager_id,
        ladder_version=ladder.version,
        experience_exception=exception,
    )


def _waived(
    years: float,
    level: Level,
    on: date,
    given: str | None,
    ids: dict[str, object],
    unmet: tuple[str, ...] = (),
) -> str | None:
    """The experience exception to record for reaching ``level`` with ``years`` on ``on``
    (and ``unmet`` requirements beyond years): None when everything is met; ``given``
    (required then) when something is not."""
    exception = checks.optional_text(given, "experienceException")
    short = years + EXPERIENCE_TOLERANCE < level.min_years
    if not short and not unmet:
        return None  # nothing was waived: only real exceptions are recorded
    if exception is None and short:
        raise errors.InsufficientExperience(
            f"{years:.1f} years of experience on {on}, {level.title!r} needs "
            f"{level.min_years}; give an experience exception with its reason",
            ids=ids,
        )
    if exception is None:
        raise errors.RequirementNotMet(
            f"{level.title!r} requires {', '.join(unmet)} ({LEADERSHIP_MONTHS} months in the "
            "level below), not met on "
            f"{on}; give an experience exception with its reason",
            ids={**ids, "requirements": ",".join(unmet)},
        )
    return exception


def _level_change(
    state: PersonState, person_id: UUID, on: date, ctx: DecisionContext
) -> tuple[Career, Ladder, Level]:
    """Shared checks of every level change: the person, the date, their current level."""
    career = checks.active_on(state, person_id, on, ctx)
    last = career.last_level_change_on
    ids = {"personId": person_id}
    if last is not None and on == last:
        raise errors.LevelAlreadyChangedOnDate(
            f"the level of {person_id} already changed on {on}", ids=ids
        )
    _not_before_latest_change(career, on, ids)
    ladder = ctx.ladder(career.track)
    current = checks.level_of(ladder, career.level, "personId")
    return career, ladder, current


def _not_before_latest_change(career: Career, on: date, ids: dict[str, UUID]) -> None:
    last = career.last_level_change_on
    if last is not None and on < last:
        raise errors.EffectiveDateOutOfOrder(
            f"{on} is before the latest level change on {last}; record changes in order "
            "or correct the later one",
            ids=ids,
        )


def _promote(
    state: PersonState, c: cmd.RecordPromotion, ctx: DecisionContext
) -> ev.PromotionRecorded:
    career, ladder, current = _level_change(state, c.person_id, c.effective_on, ctx)
    target = checks.level_of(ladder, c.to_level, "toLevel")
    ids = {"personId": c.person_id, "fromLevel": current.key, "toLevel": target.key}
    if target.rank <= current.rank:
        why = "is the current level" if target.key == current.key else "is below; record a demotion"
        raise errors.NotAPromotion(f"{target.key!r} {why}", ids=ids)
    up = ladder.next_level(current.key)
    if up is not None and up.key != target.key:
        raise errors.LevelSkipped(
            f"a promotion from {current.title!r} goes to {up.title!r}, not {target.title!r}",
            ids=ids,
        )
    rationale = checks.text(c.rationale, "rationale")
    evidence = {
        checks.area(ladder, key, "evidence"): checks.text(value, "evidence")
        for key, value in c.evidence.items()
    }
    years = career.years_of_experience(c.effective_on)
    since = career.level_since or c.effective_on
    unmet = unmet_requirements(target, months_between(since, c.effective_on))
    exception = _waived(years, target, c.effective_on, c.experience_exception, ids, unmet)
    return ev.PromotionRecorded(
        person_id=c.person_id,
        effective_on=c.effective_on,
        track=ladder.track,
        from_level=current.key,
        to_level=target.key,
        ladder_version=ladder.version,
        rationale=rationale,
        evidence=evidence,
        experience_exception=exception,
    )


def _demote(state: PersonState, c: cmd.RecordDemotion, ctx: DecisionContext) -> ev.DemotionRecorded:
    _, ladder, current = _level_change(state, c.person_id, c.effective_on, ctx)
    target = checks.level_of(ladder, c.to_level, "toLevel")
    if target.rank >= current.rank:
        raise errors.NotADemotion(
            f"{target.key!r} is not below {current.key!r}",
            ids={"personId": c.person_id, "fromLevel": current.key, "toLevel": target.key},
        )
    return ev.DemotionRecorded(
        person_id=c.person_id,
        effective_on=c.effective_on,
        track=ladder.track,
        from_level=current.key,
        to_level=target.key,
        ladder_version=ladder.version,
        reason=checks.text(c.reason, "reason"),
    )


def _move(
    state: PersonState, c: cmd.RecordLateralMove, ctx: DecisionContext
) -> ev.LateralMoveRecorded:
    _, ladder, current = _level_change(state, c.person_id, c.effective_on, ctx)
    to_ladder = ctx.ladder(c.to_track, "toTrack")
    target = checks.level_of(to_ladder, c.to_level, "toLevel")
    ids = {"personId": c.person_id, "toTrack": to_ladder.track, "toLevel": target.key}
    if to_ladder.track == ladder.track:
        raise errors.NotALateralMove(
            "a lateral move changes track; within a track record a promotion or demotion",
            field="toTrack",
            ids=ids,
        )
    if target.rank > current.rank:
        raise errors.NotALateralMove(
            f"{target.title!r} ranks above {current.title!r}: a lateral move does not go up",
            ids=ids,
        )
    return ev.LateralMoveRecorded(
        person_id=c.person_id,
        effective_on=c.effective_on,
        from_track=ladder.track,
        from_level=current.key,
        to_track=to_ladder.track,
        to_level=target.key,
        ladder_version=to_ladder.version,
        reason=checks.text(c.reason, "reason"),
    )


def _rotation_id_used(state: PersonState, rotation_id: UUID) -> bool:
    return any(
        isinstance(f, ev.RoleRotationStarted) and f.rotation_id == rotation_id
        for f in state.recorded
    )


def _start_rotation(
    state: PersonState, c: cmd.StartRotation, ctx: DecisionContext
) -> ev.RoleRotationStarted:
    career = checks.active_on(state, c.person_id, c.effective_on, ctx)
    ids = {"personId": c.person_id, "rotationId": c.rotation_id}
    if _rotation_id_used(state, c.rotation_id):
        raise errors.InvalidInput(
            f"rotation {c.rotation_id} already exists", field="rotationId", ids=ids
        )
    if c.planned_end_on < c.effective_on:
        raise errors.EndBeforeStart(
            f"the planned end {c.planned_end_on} is before the start {c.effective_on}",
            field="plannedEndOn",
            ids=ids,
        )
    host_team = checks.text(c.host_team, "hostTeam", max_len=checks.MAX_NAME)
    area = checks.area(ctx.ladder(career.track), c.development_area, "developmentArea")
    for other in career.rotations:
        # A running rotation has no end yet: nothing may start during or after its start.
        # A backdated rotation wholly before it (overlapping nothing) is fine.
        after_running = other.active and c.effective_on >= other.started_on
        if after_running or other.overlaps(c.effective_on, c.planned_end_on):
            why = "is still running" if after_running else "overlaps these dates"
            raise errors.RotationOverlap(
                f"rotation {other.rotation_id} ({other.host_team}) {why}",
                ids={**ids, "otherRotationId": other.rotation_id},
            )
    return ev.RoleRotationStarted(
        person_id=c.person_id,
        effective_on=c.effective_on,
        rotation_id=c.rotation_id,
        host_team=host_team,
        development_area=area,
        planned_end_on=c.planned_end_on,
    )


def _end_rotation(
    state: PersonState, c: cmd.EndRotation, ctx: DecisionContext
) -> ev.RoleRotationEnded:
    career = checks.active_on(state, c.person_id, c.effective_on, ctx)
    ids = {"personId": c.person_id, "rotationId": c.rotation_id}
    found = [r for r in career.rotations if r.rotation_id == c.rotation_id]
    if not found:
        raise errors.RotationNotFound(f"no rotation {c.rotation_id} for {c.person_id}", ids=ids)
    rotation = found[0]
    if not rotation.active:
        raise errors.RotationAlreadyEnded(
            f"rotation {c.rotation_id} ended on {rotation.ended_on}", ids=ids
        )
    if c.effective_on < rotation.started_on:
        raise errors.EndBeforeStart(
            f"{c.effective_on} is before the rotation started on {rotation.started_on}", ids=ids
        )
    for other in career.rotations:
        if other is not rotation and other.overlaps(rotation.started_on, c.effective_on):
            raise errors.RotationOverlap(
                f"ending on {c.effective_on} would overlap rotation {other.rotation_id}",
                ids={**ids, "otherRotationId": other.rotation_id},
            )
    return ev.RoleRotationEnded(
        person_id=c.person_id,
        effective_on=c.effective_on,
        rotation_id=c.rotation_id,
        outcome=checks.text(c.outcome, "outcome"),
    )


def _training(
    state: PersonState, c: cmd.RecordTraining, ctx: DecisionContext
) -> ev.LeadershipTrainingCompleted:
    career = checks.active_on(state, c.person_id, c.effective_on, ctx)
    return ev.LeadershipTrainingCompleted(
        person_id=c.person_id,
        effective_on=c.effective_on,
        program=checks.text(c.program, "program", max_len=checks.MAX_NAME),
        development_area=checks.area(
            ctx.ladder(career.track), c.development_area, "developmentArea"
        ),
    )


def _depart(
    state: PersonState, c: cmd.RecordDeparture, ctx: DecisionContext
) -> list[ev.PersonEvent]:
    """Departure ends a running rotation the same day; active mentorships block it."""
    career = checks.active_on(state, c.person_id, c.effective_on, ctx)
    ids = {"personId": c.person_id}
    latest = max(f.effective_on for f in state.facts.values())
    if c.effective_on < latest:
        raise errors.EffectiveDateOutOfOrder(
            f"{c.effective_on} is before a fact effective on {latest}; correct or rescind "
            "that fact first",
            ids=ids,
        )
    active = {**state.mentees, **state.mentors}
    if active:
        raise errors.MentorshipsStillActive(
            f"{len(active)} mentorships are still active; end them before the departure",
            ids={**ids, "mentorshipIds": ",".join(sorted(str(i) for i in active))},
        )
    reason = checks.text(c.reason, "reason")
    ended: list[ev.PersonEvent] = [
        ev.RoleRotationEnded(
            person_id=c.person_id,
            effective_on=c.effective_on,
            rotation_id=r.rotation_id,
            outcome=f"ended by departure: {reason}",
        )
        for r in career.rotations
        if r.active
    ]
    return [*ended, ev.PersonDeparted(c.person_id, c.effective_on, reason)]


def _rehire(state: PersonState, c: cmd.RehirePerson, ctx: DecisionContext) -> ev.PersonRehired:
    career = checks.existing(state, c.person_id)
    ids = {"personId": c.person_id}
    departed_on = career.departed_on
    if departed_on is None:
        raise errors.PersonNotDeparted(f"person {c.person_id} is still employed", ids=ids)
    if c.effective_on <= departed_on:
        raise errors.EffectiveDateOutOfOrder(
            f"a rehire on {c.effective_on} must follow the departure on {departed_on}", ids=ids
        )
    checks.not_too_far_ahead(c.effective_on, ctx, date_field="effectiveOn", ids=ids)
    ladder = ctx.ladder(c.track)
    level = checks.level_of(ladder, c.level, "level")
    checks.not_self_managed(c.person_id, c.manager_id)
    years = career.years_of_experience(c.effective_on)
    exception = _waived(
        years, level, c.effective_on, c.experience_exception, {**ids, "level": level.key}
    )
    return ev.PersonRehired(
        person_id=c.person_id,
        effective_on=c.effective_on,
        track=ladder.track,
        level=level.key,
        manager_id=c.manager_id,
        ladder_version=ladder.version,
        experience_exception=exception,
    )


def _change_manager(
    state: PersonState, c: cmd.ChangeManager, ctx: DecisionContext
) -> ev.ManagerChanged:
    career = checks.active_on(state, c.person_id, c.effective_on, ctx)
    checks.not_self_managed(c.person_id, c.manager_id)
    if c.manager_id == career.manager_id:
        raise errors.InvalidInput(
            f"{c.manager_id} is already the manager",
            field="managerId",
            ids={"personId": c.person_id},
        )
    return ev.ManagerChanged(c.person_id, c.effective_on, c.manager_id)
