"""The event each command is named for: what "this command happened" means in the log.

A command may record more than its named event (a mentorship in both people's streams, a
published ladder's moves in the streams of the people it maps); the named event is the
one recorded in the stream the command is judged against, and it is what a caller is
told the command did. ``CareerService`` uses it twice: to report a write, and to refuse
an idempotency key first used for another operation (its first result holds no such
event).
"""

from __future__ import annotations

from domain import case_commands as cc
from domain import case_events as ce
from domain import commands as c
from domain import events as ev

AnyCommand = c.Command | cc.PromotionWorkflowCommand

NAMED_EVENTS: dict[type[AnyCommand], tuple[type[ev.DomainEvent], ...]] = {
    c.HirePerson: (ev.PersonHired,),
    c.RecordPromotion: (ev.PromotionRecorded,),
    c.RecordDemotion: (ev.DemotionRecorded,),
    c.RecordLateralMove: (ev.LateralMoveRecorded,),
    c.StartMentorship: (ev.MentorshipStarted,),
    c.EndMentorship: (ev.MentorshipEnded,),
    c.StartRotation: (ev.RoleRotationStarted,),
    c.EndRotation: (ev.RoleRotationEnded,),
    c.RecordTraining: (ev.LeadershipTrainingCompleted,),
    c.RecordDeparture: (ev.PersonDeparted,),
    c.RehirePerson: (ev.PersonRehired,),
    c.ChangeManager: (ev.ManagerChanged,),
    # A correction of a mentorship's start or end is recorded as one, in both streams.
    c.CorrectEvent: (ev.EventCorrected, ev.MentorshipCorrected),
    c.RescindEvent: (ev.EventRescinded,),
    c.PublishLadder: (ev.LadderPublished,),
    c.ErasePersonalData: (ev.PersonalDataErased,),
    cc.OpenPromotionCycle: (ce.PromotionCycleOpened,),
    cc.ClosePromotionCycle: (ce.PromotionCycleClosed,),
    cc.NominateForPromotion: (ce.PromotionNominated,),
    cc.AddPromotionEvidence: (ce.PromotionEvidenceAdded,),
    cc.NamePromotionReviewers: (ce.PromotionReviewersNamed,),
    cc.ReviewPromotion: (ce.PromotionReviewed,),
    cc.DecidePromotion: (ce.PromotionApproved, ce.PromotionDeclined),
    cc.WithdrawNomination: (ce.NominationWithdrawn,),
}
"""Command type -> the event types it may be named for (one of them is recorded)."""


def named_events(command: AnyCommand) -> tuple[type[ev.DomainEvent], ...]:
    """The event types ``command`` is named for; exactly one of them is recorded in the
    stream it is judged against when it is accepted."""
    return NAMED_EVENTS[type(command)]
