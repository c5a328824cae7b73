from datetime import date
from uuid import UUID, uuid4

import pytest

from domain import commands as cmd
from domain import events as ev
from domain.errors import LadderError
from domain.mentoring import decide_mentorship_correction
from domain.person import DecisionContext, PersonState, decide_mentorship

from .helpers import CTX, departed, given, hired, promoted

START = date(2022, 3, 1)


def person(level: str, **kw: object) -> PersonState:
    return given(hired(uuid4(), level=level, **kw))  # type: ignore[arg-type]


def start(
    mentor: PersonState, mentee: PersonState, *, allow_reverse: bool = False, on: date = START
) -> cmd.StartMentorship:
    assert mentor.person_id and mentee.person_id
    return cmd.StartMentorship(
        uuid4(), mentor.person_id, mentee.person_id, on, ("own a roadmap",), allow_reverse
    )


def refused(
    mentor: PersonState,
    mentee: PersonState,
    command: cmd.StartMentorship | cmd.EndMentorship,
    code: str,
    ctx: DecisionContext = CTX,
) -> LadderError:
    with pytest.raises(LadderError) as caught:
        decide_mentorship(mentor, mentee, command, ctx)
    assert caught.value.code == code, caught.value.message
    return caught.value


def started(
    mentor: PersonState, mentee: PersonState, command: cmd.StartMentorship
) -> tuple[PersonState, PersonState]:
    mentor_events, mentee_events = decide_mentorship(mentor, mentee, command, CTX)
    return given(*mentor.recorded, *mentor.mentorship_events, *mentor_events), given(
        *mentee.recorded, *mentee.mentorship_events, *mentee_events
    )


def test_a_mentorship_is_recorded_in_both_streams() -> None:
    mentor, mentee = person("senior_pm"), person("apm")
    command = start(mentor, mentee)
    mentor_events, mentee_events = decide_mentorship(mentor, mentee, command, CTX)
    [for_mentor], [for_mentee] = mentor_events, mentee_events
    assert isinstance(for_mentor, ev.MentorshipStarted)
    assert for_mentor.person_id == mentor.person_id
    assert for_mentee.person_id == mentee.person_id
    assert for_mentor.mentorship_id == for_mentee.mentorship_id == command.mentorship_id
    assert for_mentor.event_id != for_mentee.event_id
    assert for_mentor.goals == ("own a roadmap",)
    assert not for_mentor.reverse


def test_both_people_see_the_active_mentorship() -> None:
    mentor, mentee = person("senior_pm"), person("apm")
    command = start(mentor, mentee)
    mentor, mentee = started(mentor, mentee, command)
    assert mentor.mentees == {command.mentorship_id: command.mentee_id}
    assert mentee.mentors == {command.mentorship_id: command.mentor_id}
    assert mentee.mentor_of(command.mentorship_id) == command.mentor_id


def test_a_person_cannot_mentor_themselves() -> None:
    mentor = person("senior_pm")
    refused(mentor, mentor, start(mentor, mentor), "SELF_MENTORSHIP")


def test_the_mentor_must_rank_above_the_mentee() -> None:
    mentor, mentee = person("pm"), person("pm")
    error = refused(mentor, mentee, start(mentor, mentee), "MENTOR_NOT_SENIOR")
    assert error.ids["mentorId"] == str(mentor.person_id)


def test_reverse_mentoring_is_allowed_only_when_asked_for() -> None:
    mentor, mentee = person("apm"), person("director")
    [event], _ = decide_mentorship(mentor, mentee, start(mentor, mentee, allow_reverse=True), CTX)
    assert isinstance(event, ev.MentorshipStarted)
    assert event.reverse


def test_seniority_is_judged_on_the_start_date() -> None:
    pid = uuid4()
    mentor = given(
        hired(pid, level="pm", prior_years=9), promoted(pid, date(2022, 6, 1), "pm", "senior_pm")
    )
    mentee = person("pm")
    refused(mentor, mentee, start(mentor, mentee, on=date(2022, 5, 1)), "MENTOR_NOT_SENIOR")
    assert decide_mentorship(mentor, mentee, start(mentor, mentee, on=date(2022, 6, 1)), CTX)


def test_a_departed_mentor_is_refused() -> None:
    pid = uuid4()
    mentor = given(hired(pid, level="director"), departed(pid, date(2030, 1, 1)))
    mentee = person("apm")
    error = refused(mentor, mentee, start(mentor, mentee), "PERSON_DEPARTED")
    assert error.field == "mentorId"


def test_an_unknown_mentee_is_refused() -> None:
    mentor = person("director")
    command = cmd.StartMentorship(uuid4(), mentor.person_id, uuid4(), START)  # type: ignore[arg-type]
    error = refused(mentor, PersonState(), command, "PERSON_NOT_FOUND")
    assert error.field == "menteeId"


def test_a_mentorship_cannot_start_before_the_mentee_was_hired() -> None:
    mentor, mentee = person("director"), person("apm", on=date(2022, 6, 1))
    refused(mentor, mentee, start(mentor, mentee), "EFFECTIVE_DATE_BEFORE_HIRE")


def test_a_mentor_has_at_most_five_active_mentees() -> None:
    mentor = person("director")
    for _ in range(5):
        mentee = person("apm")
        mentor, _ = started(mentor, mentee, start(mentor, mentee))
    assert len(mentor.mentees) == 5
    sixth = person("apm")
    error = refused(mentor, sixth, start(mentor, sixth), "MENTOR_AT_CAPACITY")
    assert error.field == "mentorId"


def test_the_capacity_is_configurable() -> None:
    mentor, mentee = person("director"), person("apm")
    ctx = DecisionContext(today=CTX.today, ladders=CTX.ladders, max_mentees=0)
    refused(mentor, mentee, start(mentor, mentee), "MENTOR_AT_CAPACITY", ctx)


def test_the_same_pair_cannot_have_two_active_mentorships() -> None:
    mentor, mentee = person("director"), person("apm")
    mentor, mentee = started(mentor, mentee, start(mentor, mentee))
    refused(mentor, mentee, start(mentor, mentee), "MENTORSHIP_ALREADY_ACTIVE")


def end(mentee: PersonState, mentorship_id: UUID, on: date) -> cmd.EndMentorship:
    assert mentee.person_id
    return cmd.EndMentorship(mentorship_id, mentee.person_id, on, "ready to lead")


def test_a_mentorship_ends_in_both_streams() -> None:
    mentor, mentee = person("director"), person("apm")
    command = start(mentor, mentee)
    mentor, mentee = started(mentor, mentee, command)
    [a], [b] = decide_mentorship(mentor, mentee, end(mentee, command.mentorship_id, START), CTX)
    assert isinstance(a, ev.MentorshipEnded)
    assert (a.person_id, b.person_id) == (mentor.person_id, mentee.person_id)
    after = given(*mentor.recorded, *mentor.mentorship_events, a)
    assert after.mentees == {}


def test_a_mentorship_ends_once() -> None:
    mentor, mentee = person("director"), person("apm")
    command = start(mentor, mentee)
    mentor, mentee = started(mentor, mentee, command)
    a, b = decide_mentorship(mentor, mentee, end(mentee, command.mentorship_id, START), CTX)
    mentor = given(*mentor.recorded, *mentor.mentorship_events, *a)
    mentee = given(*mentee.recorded, *mentee.mentorship_events, *b)
    refused(
        mentor,
        mentee,
        end(mentee, command.mentorship_id, date(2023, 1, 1)),
        "MENTORSHIP_ALREADY_ENDED",
    )


def test_a_mentorship_cannot_end_before_it_started() -> None:
    mentor, mentee = person("director"), person("apm")
    command = start(mentor, mentee)
    mentor, mentee = started(mentor, mentee, command)
    refused(
        mentor, mentee, end(mentee, command.mentorship_id, date(2022, 2, 1)), "END_BEFORE_START"
    )


def test_ending_an_unknown_mentorship_is_refused() -> None:
    mentor, mentee = person("director"), person("apm")
    refused(mentor, mentee, end(mentee, uuid4(), START), "MENTORSHIP_NOT_FOUND")


def test_an_ended_mentorship_frees_capacity() -> None:
    mentor = person("director")
    ctx = DecisionContext(today=CTX.today, ladders=CTX.ladders, max_mentees=1)
    mentee = person("apm")
    command = start(mentor, mentee)
    mentor, mentee = started(mentor, mentee, command)
    other = person("apm")
    refused(mentor, other, start(mentor, other), "MENTOR_AT_CAPACITY", ctx)
    a, _ = decide_mentorship(mentor, mentee, end(mentee, command.mentorship_id, START), CTX)
    mentor = given(*mentor.recorded, *mentor.mentorship_events, *a)
    assert decide_mentorship(mentor, other, start(mentor, other), ctx)


def test_a_mentorship_more_than_a_year_ahead_is_refused() -> None:
    mentor, mentee = person("director"), person("apm")
    refused(
        mentor, mentee, start(mentor, mentee, on=date(2030, 1, 1)), "EFFECTIVE_DATE_TOO_FAR_AHEAD"
    )


def test_a_mentorship_id_is_used_once() -> None:
    mentor, mentee = person("director"), person("apm")
    command = start(mentor, mentee)
    mentor, mentee = started(mentor, mentee, command)
    other = person("pm")
    again = cmd.StartMentorship(command.mentorship_id, command.mentor_id, other.person_id, START)  # type: ignore[arg-type]
    error = refused(mentor, other, again, "VALIDATION_ERROR")
    assert error.field == "mentorshipId"


def test_blank_goals_are_refused() -> None:
    mentor, mentee = person("director"), person("apm")
    command = cmd.StartMentorship(uuid4(), mentor.person_id, mentee.person_id, START, (" ",))  # type: ignore[arg-type]
    error = refused(mentor, mentee, command, "VALIDATION_ERROR")
    assert error.field == "goals"


def started_pair() -> tuple[PersonState, PersonState]:
    mentor, mentee = person("director", prior_years=12), person("apm")
    mentor_events, mentee_events = decide_mentorship(mentor, mentee, start(mentor, mentee), CTX)
    return given(*mentor.recorded, *mentor_events), given(*mentee.recorded, *mentee_events)


def test_a_mentorship_correction_is_recorded_in_both_streams_with_each_copys_id() -> None:
    mentor, mentee = started_pair()
    copy = mentee.mentorship_events[0]
    fix = cmd.CorrectEvent(
        copy.person_id, copy.event_id, {"effective_on": "2022-02-01"}, "It began earlier."
    )
    mentor_fix, mentee_fix = decide_mentorship_correction(mentor, mentee, fix, CTX)
    assert [e.target_event_id for e in mentor_fix] == [mentor.mentorship_events[0].event_id]
    assert [e.target_event_id for e in mentee_fix] == [copy.event_id]
    for state, events in ((mentor, mentor_fix), (mentee, mentee_fix)):
        [m] = given(*state.recorded, *state.mentorship_events, *events).mentorships.values()
        assert m.started_on == date(2022, 2, 1)


def test_a_mentorship_correction_may_not_change_who_mentors_whom() -> None:
    mentor, mentee = started_pair()
    copy = mentee.mentorship_events[0]
    fix = cmd.CorrectEvent(copy.person_id, copy.event_id, {"mentor_id": str(uuid4())}, "x")
    with pytest.raises(LadderError) as caught:
        decide_mentorship_correction(mentor, mentee, fix, CTX)
    assert caught.value.code == "INVALID_CORRECTION"


def test_a_mentorship_start_cannot_be_corrected_to_before_the_mentees_hire() -> None:
    mentor, mentee = started_pair()
    copy = mentee.mentorship_events[0]
    fix = cmd.CorrectEvent(copy.person_id, copy.event_id, {"effective_on": "2019-01-01"}, "x")
    with pytest.raises(LadderError) as caught:
        decide_mentorship_correction(mentor, mentee, fix, CTX)
    assert caught.value.code == "INVALID_CORRECTION"
