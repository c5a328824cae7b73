"""Small builders for career histories: domain events, appended as the service would."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID, uuid4

from domain import events as ev
from domain.serialization import stream_for, to_data, type_name
from events.port import EventStore, Metadata, NewEvent, StreamAppend


async def record(store: EventStore, *events: ev.DomainEvent, actor: str = "hr-1") -> list[int]:
    """Append ``events`` in one multi-stream append (mentorship copies go together)."""
    by_stream: dict[str, list[NewEvent]] = defaultdict(list)
    for e in events:
        by_stream[stream_for(e)].append(NewEvent(type_name(e), to_data(e), event_id=e.event_id))
    appends = [StreamAppend(s, evs) for s, evs in by_stream.items()]
    return await store.append_streams(appends, metadata=Metadata(actor_id=actor))


@dataclass
class Person:
    """A person being hired, promoted... with sensible defaults for the test at hand."""

    name: str
    track: str = "product"
    level: str = "apm"
    person_id: UUID = field(default_factory=uuid4)

    def hired(
        self,
        on: date,
        *,
        prior_years: float = 0.0,
        manager: Person | None = None,
        level: str | None = None,
    ) -> ev.PersonHired:
        return ev.PersonHired(
            person_id=self.person_id,
            effective_on=on,
            name=self.name,
            email=f"{self.name.lower().replace(' ', '.')}@example.com",
            track=self.track,
            level=level or self.level,
            prior_years=prior_years,
            manager_id=manager.person_id if manager else None,
            ladder_version=1,
        )

    def promoted(
        self, on: date, from_level: str, to_level: str, exception: str | None = None
    ) -> ev.PromotionRecorded:
        return ev.PromotionRecorded(
            person_id=self.person_id,
            effective_on=on,
            track=self.track,
            from_level=from_level,
            to_level=to_level,
            ladder_version=1,
            rationale="delivered",
            evidence={"business_impact": "shipped"},
            experience_exception=exception,
        )

    def departed(self, on: date) -> ev.PersonDeparted:
        return ev.PersonDeparted(person_id=self.person_id, effective_on=on, reason="left")

    def rehired(self, on: date, level: str) -> ev.PersonRehired:
        return ev.PersonRehired(
            person_id=self.person_id,
            effective_on=on,
            track=self.track,
            level=level,
            manager_id=None,
            ladder_version=1,
        )

    def rotation(
        self, on: date, planned_end_on: date, rotation_id: UUID | None = None
    ) -> ev.RoleRotationStarted:
        return ev.RoleRotationStarted(
            person_id=self.person_id,
            effective_on=on,
            rotation_id=rotation_id or uuid4(),
            host_team="growth",
            development_area="role_rotation",
            planned_end_on=planned_end_on,
        )

    def rotation_ended(self, on: date, rotation_id: UUID) -> ev.RoleRotationEnded:
        return ev.RoleRotationEnded(
            person_id=self.person_id, effective_on=on, rotation_id=rotation_id, outcome="good"
        )

    def trained(self, on: date) -> ev.LeadershipTrainingCompleted:
        return ev.LeadershipTrainingCompleted(
            person_id=self.person_id,
            effective_on=on,
            program="lead",
            development_area="leadership_training",
        )

    def corrected(self, on: date, target: UUID, **changes: object) -> ev.EventCorrected:
        return ev.EventCorrected(
            person_id=self.person_id,
            effective_on=on,
            target_event_id=target,
            changes=dict(changes),
            reason="typo",
        )

    def rescinded(self, on: date, target: UUID) -> ev.EventRescinded:
        return ev.EventRescinded(
            person_id=self.person_id, effective_on=on, target_event_id=target, reason="void"
        )


def mentorship(
    mentor: Person, mentee: Person, on: date, mentorship_id: UUID | None = None
) -> tuple[ev.MentorshipStarted, ev.MentorshipStarted]:
    """Both copies of a mentorship's start (mentor's stream, mentee's stream)."""
    mid = mentorship_id or uuid4()

    def copy(owner: Person) -> ev.MentorshipStarted:
        return ev.MentorshipStarted(
            person_id=owner.person_id,
            effective_on=on,
            mentorship_id=mid,
            mentor_id=mentor.person_id,
            mentee_id=mentee.person_id,
            goals=("grow",),
            reverse=False,
        )

    return copy(mentor), copy(mentee)


def mentorship_ended(
    mentor: Person, mentee: Person, on: date, mentorship_id: UUID
) -> tuple[ev.MentorshipEnded, ev.MentorshipEnded]:
    def copy(owner: Person) -> ev.MentorshipEnded:
        return ev.MentorshipEnded(
            person_id=owner.person_id,
            effective_on=on,
            mentorship_id=mentorship_id,
            mentor_id=mentor.person_id,
            mentee_id=mentee.person_id,
            outcome="done",
        )

    return copy(mentor), copy(mentee)
