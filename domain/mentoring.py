"""Mentorships: decided against BOTH people's states, recorded in both streams.

``decide_mentorship`` returns ``(mentor_events, mentee_events)``: the same fact twice,
each copy owned by (``person_id``) the stream it goes to. The application service appends
them in one atomic two-stream append with the expected version of each stream. The
capacity rule is decided from the mentor's state alone, so two concurrent assignments to
one mentor expect the same mentor version and only one can be appended; the other is
retried against the fresh state and refused if the mentor is then at capacity.
"""

from __future__ import annotations

from uuid import UUID

from domain import checks, errors
from domain import commands as cmd
from domain import events as ev
from domain.career import Career
from domain.checks import DecisionContext
from domain.corrections import type_problems
from domain.org_chart import employed_on
from domain.state import MENTORSHIP_FIELDS, PersonState, correct_mentorship

MentorshipEvents = list[ev.MentorshipStarted | ev.MentorshipEnded]


def decide_mentorship(
    mentor: PersonState,
    mentee: PersonState,
    command: cmd.StartMentorship | cmd.EndMentorship,
    ctx: DecisionContext,
) -> tuple[MentorshipEvents, MentorshipEvents]:
    """(events for the mentor's stream, events for the mentee's stream); may raise."""
    if isinstance(command, cmd.StartMentorship):
        return _start(mentor, mentee, command, ctx)
    return _end(mentor, mentee, command, ctx)


def _rank(career: Career, ctx: DecisionContext) -> int | None:
    ladder = ctx.ladders.get(career.track)
    if ladder is None or not ladder.has_level(career.level):
        return None
    return ladder.level(career.level).rank


def _start(
    mentor: PersonState, mentee: PersonState, c: cmd.StartMentorship, ctx: DecisionContext
) -> tuple[MentorshipEvents, MentorshipEvents]:
    ids = {"mentorshipId": c.mentorship_id, "mentorId": c.mentor_id, "menteeId": c.mentee_id}
    if c.mentor_id == c.mentee_id:
        raise errors.SelfMentorship("a person cannot mentor themselves", ids=ids)
    checks.active_on(mentor, c.mentor_id, c.effective_on, ctx, field="mentorId")
    checks.active_on(mentee, c.mentee_id, c.effective_on, ctx, field="menteeId")
    if c.mentorship_id in mentor.mentorships or c.mentorship_id in mentee.mentorships:
        raise errors.InvalidInput(
            f"mentorship {c.mentorship_id} already exists", field="mentorshipId", ids=ids
        )
    if len(c.goals) > checks.MAX_GOALS:
        raise errors.InvalidInput(f"at most {checks.MAX_GOALS} goals", field="goals", ids=ids)
    goals = tuple(checks.text(goal, "goals") for goal in c.goals)
    for m in mentor.mentorships.values():
        if m.active and m.mentor_id == c.mentor_id and m.mentee_id == c.mentee_id:
            raise errors.MentorshipAlreadyActive(
                f"{c.mentor_id} already mentors {c.mentee_id} (mentorship {m.mentorship_id})",
                ids={**ids, "activeMentorshipId": m.mentorship_id},
            )
    mentor_rank = _rank(mentor.view_on(c.effective_on), ctx)
    mentee_rank = _rank(mentee.view_on(c.effective_on), ctx)
    senior = mentor_rank is not None and mentee_rank is not None and mentor_rank > mentee_rank
    if not senior and not c.allow_reverse:
        raise errors.MentorNotSenior(
            f"on {c.effective_on} the mentor's level does not rank above the mentee's; "
            "ask for reverse mentoring explicitly",
            ids=ids,
        )
    if len(mentor.mentees) >= ctx.max_mentees:
        raise errors.MentorAtCapacity(
            f"{c.mentor_id} already has {len(mentor.mentees)} active mentees "
            f"(at most {ctx.max_mentees})",
            ids=ids,
        )

    def started(owner: UUID) -> ev.MentorshipStarted:
        return ev.MentorshipStarted(
            person_id=owner,
            effective_on=c.effective_on,
            mentorship_id=c.mentorship_id,
            mentor_id=c.mentor_id,
            mentee_id=c.mentee_id,
            goals=goals,
            reverse=not senior,
        )

    return [started(c.mentor_id)], [started(c.mentee_id)]


def _end(
    mentor: PersonState, mentee: PersonState, c: cmd.EndMentorship, ctx: DecisionContext
) -> tuple[MentorshipEvents, MentorshipEvents]:
    ids: dict[str, object] = {"mentorshipId": c.mentorship_id, "menteeId": c.person_id}
    checks.existing(mentee, c.person_id, "personId")
    found = mentee.mentorships.get(c.mentorship_id)
    if found is None or found.mentee_id != c.person_id:
        raise errors.MentorshipNotFound(
            f"{c.person_id} is not the mentee of a mentorship {c.mentorship_id}", ids=ids
        )
    ids["mentorId"] = found.mentor_id
    checks.existing(mentor, found.mentor_id, "mentorId")
    if not found.active:
        raise errors.MentorshipAlreadyEnded(
            f"mentorship {c.mentorship_id} ended on {found.ended_on}", ids=ids
        )
    if c.effective_on < found.started_on:
        raise errors.EndBeforeStart(
            f"{c.effective_on} is before the mentorship started on {found.started_on}", ids=ids
        )
    checks.not_too_far_ahead(c.effective_on, ctx, date_field="effectiveOn", ids=ids)
    outcome = checks.text(c.outcome, "outcome")

    def ended(owner: UUID) -> ev.MentorshipEnded:
        return ev.MentorshipEnded(
            person_id=owner,
            effective_on=c.effective_on,
            mentorship_id=c.mentorship_id,
            mentor_id=found.mentor_id,
            mentee_id=c.person_id,
            outcome=outcome,
        )

    return [ended(found.mentor_id)], [ended(c.person_id)]


def mentorship_target(
    state: PersonState, event_id: UUID
) -> ev.MentorshipStarted | ev.MentorshipEnded | None:
    """The start or end of a mentorship recorded in this stream with that id, if any."""
    for e in state.mentorship_events:
        if e.event_id == event_id and isinstance(e, ev.MentorshipStarted | ev.MentorshipEnded):
            return e
    return None


def decide_mentorship_correction(
    mentor: PersonState, mentee: PersonState, c: cmd.CorrectEvent, ctx: DecisionContext
) -> tuple[list[ev.MentorshipCorrected], list[ev.MentorshipCorrected]]:
    """A correction of a mentorship's start or end, for both streams; may raise.

    ``c.target_event_id`` names either person's copy. The corrected mentorship must still
    hold: both people employed on its start, the mentor senior on it (unless it is a
    reverse mentorship), its end not before its start, dates at most a year ahead.
    """
    ids: dict[str, object] = {"personId": c.person_id, "targetEventId": c.target_event_id}
    own = mentor if c.person_id == mentor.person_id else mentee
    target = mentorship_target(own, c.target_event_id)
    if target is None:
        raise errors.EventNotFound(f"no mentorship event {c.target_event_id}", ids=ids)
    kind = type(target).__name__
    mid = target.mentorship_id
    ids["mentorshipId"] = mid
    reason = checks.text(c.reason, "reason")
    allowed = MENTORSHIP_FIELDS[kind]
    if not c.changes or not set(c.changes) <= allowed:
        raise errors.InvalidCorrection(
            f"a correction of {kind} changes some of {', '.join(sorted(allowed))}",
            field="changes",
            ids=ids,
        )
    start, end = own.mentorship_facts[mid]
    current = start if kind == "MentorshipStarted" else end
    fixed = None if current is None else correct_mentorship(current, c.changes)
    if fixed is None or type_problems(fixed):
        raise errors.InvalidCorrection("the changes do not parse as the event's fields", ids=ids)
    if fixed == current:
        raise errors.InvalidCorrection("the changes leave the event as it is", ids=ids)
    checks.not_too_far_ahead(fixed.effective_on, ctx, date_field="changes", ids=ids)
    if isinstance(fixed, ev.MentorshipStarted):
        if len(fixed.goals) > checks.MAX_GOALS:
            raise errors.InvalidInput(f"at most {checks.MAX_GOALS} goals", field="goals", ids=ids)
        for goal in fixed.goals:
            checks.text(goal, "goals")
        start = fixed
        _check_start(mentor, mentee, start, ctx, ids)
    elif isinstance(fixed, ev.MentorshipEnded):
        checks.text(fixed.outcome, "outcome")
        end = fixed
    if end is not None and end.effective_on < start.effective_on:
        raise errors.EndBeforeStart(
            f"the mentorship would end on {end.effective_on}, before it starts on "
            f"{start.effective_on}",
            field="changes",
            ids=ids,
        )

    def corrected(state: PersonState) -> list[ev.MentorshipCorrected]:
        copy = next(
            (
                e
                for e in state.mentorship_events
                if e.mentorship_id == mid and type(e).__name__ == kind
            ),
            None,
        )
        if copy is None:  # a log written before both copies were kept in one append
            raise errors.InvalidCorrection(f"no copy of {kind} in {state.person_id}", ids=ids)
        return [
            ev.MentorshipCorrected(
                person_id=copy.person_id,
                effective_on=ctx.today,
                mentorship_id=mid,
                target_event_id=copy.event_id,
                target_type=kind,
                changes=dict(c.changes),
                reason=reason,
                mentee_id=mentee.person_id,
            )
        ]

    return corrected(mentor), corrected(mentee)


def _check_start(
    mentor: PersonState,
    mentee: PersonState,
    start: ev.MentorshipStarted,
    ctx: DecisionContext,
    ids: dict[str, object],
) -> None:
    on = start.effective_on
    for who, state in (("mentor", mentor), ("mentee", mentee)):
        if not employed_on(state.career, on):
            raise errors.InvalidCorrection(
                f"the {who} was not employed on {on}", field="changes", ids=ids
            )
    if not start.reverse:
        mentor_rank = _rank(mentor.view_on(on), ctx)
        mentee_rank = _rank(mentee.view_on(on), ctx)
        if mentor_rank is None or mentee_rank is None or mentor_rank <= mentee_rank:
            raise errors.MentorNotSenior(
                f"on {on} the mentor's level does not rank above the mentee's", ids=ids
            )
