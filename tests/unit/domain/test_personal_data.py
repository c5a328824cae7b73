"""What is personal data, and the rule for erasing it (no I/O)."""

from __future__ import annotations

import dataclasses
from datetime import date
from uuid import uuid4

import pytest

from domain import commands as c
from domain import errors
from domain import events as ev
from domain.personal_data import (
    NESTED_FIELDS,
    NOT_PERSONAL,
    PERSONAL_FIELDS,
    PersonalDataAlreadyErased,
    decide_erasure,
)
from domain.serialization import EVENT_TYPES
from domain.state import fold

SUSPECT_WORDS = (
    "name", "email", "rationale", "reason", "evidence", "comment", "note", "goal",
    "outcome", "exception", "description", "feedback", "text", "phone", "address",
)  # fmt: skip
NOT_TEXT = {"track", "from_track", "to_track", "host_team", "program"}
"""Fields whose names are harmless: organisation vocabulary, not about a person."""
TODAY = date(2026, 6, 1)


def _suspect(field: str) -> bool:
    return field not in NOT_TEXT and any(word in field for word in SUSPECT_WORDS)


@pytest.mark.parametrize("type_name", sorted(EVENT_TYPES))
def test_every_event_field_that_looks_personal_is_declared(type_name: str) -> None:
    declared = set(PERSONAL_FIELDS.get(type_name, {})) | NOT_PERSONAL.get(type_name, set())
    fields = {f.name for f in dataclasses.fields(EVENT_TYPES[type_name])}
    undeclared = sorted(f for f in fields if _suspect(f) and f not in declared)
    assert undeclared == [], (
        f"{type_name} has fields that look personal but are not in "
        f"domain.personal_data.PERSONAL_FIELDS (or NOT_PERSONAL): {undeclared}"
    )


def test_every_declared_field_and_subject_exists_on_its_event() -> None:
    for type_name, fields in PERSONAL_FIELDS.items():
        names = {f.name for f in dataclasses.fields(EVENT_TYPES[type_name])}
        for field, subject in fields.items():
            assert field in names and subject in names, (type_name, field, subject)
    for type_name, field in NESTED_FIELDS:
        assert field in PERSONAL_FIELDS[type_name]


def test_a_mentorship_seals_its_goals_and_outcome_as_the_mentees() -> None:
    assert PERSONAL_FIELDS["MentorshipStarted"] == {"goals": "mentee_id"}
    assert PERSONAL_FIELDS["MentorshipEnded"] == {"outcome": "mentee_id"}


def _hired() -> tuple[ev.PersonHired, c.ErasePersonalData]:
    pid = uuid4()
    hired = ev.PersonHired(
        person_id=pid, effective_on=date(2020, 1, 6), name="Ada", email="ada@example.com",
        track="product", level="apm", prior_years=0, manager_id=None, ladder_version=1,
    )  # fmt: skip
    return hired, c.ErasePersonalData(person_id=pid, reason="SUBJECT_REQUEST", reference="T-1")


def test_an_erasure_records_the_reason_code_and_no_personal_data() -> None:
    hired, command = _hired()
    erased = decide_erasure(fold([hired]), command, TODAY)
    assert (erased.person_id, erased.reason, erased.reference) == (
        hired.person_id,
        "SUBJECT_REQUEST",
        "T-1",
    )
    assert erased.effective_on == TODAY


def test_erasing_an_unknown_person_is_person_not_found_on_person_id() -> None:
    _, command = _hired()
    with pytest.raises(errors.PersonNotFound) as raised:
        decide_erasure(fold([]), command, TODAY)
    assert (raised.value.code, raised.value.field) == ("PERSON_NOT_FOUND", "personId")


def test_erasing_twice_is_refused_with_a_stable_code() -> None:
    hired, command = _hired()
    erased = decide_erasure(fold([hired]), command, TODAY)
    state = fold([hired, erased])
    assert state.erased
    with pytest.raises(PersonalDataAlreadyErased) as raised:
        decide_erasure(state, command, TODAY)
    assert raised.value.code == "PERSONAL_DATA_ALREADY_ERASED"


@pytest.mark.parametrize(
    ("reason", "reference", "field"),
    [("BECAUSE", None, "reason"), ("SUBJECT_REQUEST", "Ada Lovelace asked", "reference")],
)
def test_an_erasure_takes_a_reason_code_and_a_ticket_id_only(
    reason: str, reference: str | None, field: str
) -> None:
    hired, command = _hired()
    command = dataclasses.replace(command, reason=reason, reference=reference)
    with pytest.raises(errors.InvalidInput) as raised:
        decide_erasure(fold([hired]), command, TODAY)
    assert raised.value.field == field


def test_an_erasure_changes_no_level_or_date_of_the_career() -> None:
    hired, command = _hired()
    before = fold([hired]).career
    after = fold([hired, decide_erasure(fold([hired]), command, TODAY)]).career
    assert (after.level, after.hired_on, after.status) == (
        before.level,
        before.hired_on,
        before.status,
    )
