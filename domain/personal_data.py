"""What is personal data, whose it is, and the rule for erasing it.

``PERSONAL_FIELDS`` declares, per event type, the fields holding personal data and the
field naming their *data subject* (whose data it is). ``events/`` stores exactly these
fields encrypted under the subject's data key and erasure destroys that key
(crypto-shredding): the fields then read as ``None`` for ever, while the rest of the event
(ids, levels, dates) and the log's hashes stay as they were.

A mentorship is recorded in both people's streams; its ``goals`` and ``outcome`` are the
mentee's development, so both copies seal them under the mentee's key (``mentee_id``).

A new event type with free text or contact details must be declared here;
``tests/unit/domain/test_personal_data.py`` fails for an undeclared field with a suspicious name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Final

from domain import commands as cmd
from domain import errors
from domain import events as ev
from domain.erasure_reasons import ERASURE_REASONS as ERASURE_REASONS  # the rule's codes
from domain.state import PersonState

PERSONAL_FIELDS: Final[Mapping[str, Mapping[str, str]]] = {
    "PersonHired": {"name": "person_id", "email": "person_id", "experience_exception": "person_id"},
    "PromotionRecorded": {
        "rationale": "person_id",
        "evidence": "person_id",
        "experience_exception": "person_id",
    },
    "DemotionRecorded": {"reason": "person_id"},
    "LateralMoveRecorded": {"reason": "person_id"},
    "MentorshipStarted": {"goals": "mentee_id"},
    "MentorshipEnded": {"outcome": "mentee_id"},
    "RoleRotationEnded": {"outcome": "person_id"},
    "PersonDeparted": {"reason": "person_id"},
    "PersonRehired": {"experience_exception": "person_id"},
    "EventCorrected": {"changes": "person_id", "reason": "person_id"},
    "EventRescinded": {"reason": "person_id"},
    "MentorshipCorrected": {"changes": "mentee_id", "reason": "person_id"},
    "PromotionNominated": {"rationale": "person_id", "evidence": "person_id"},
    "PromotionEvidenceAdded": {"evidence": "person_id"},
    "PromotionReviewed": {"comment": "person_id"},
    "PromotionDeclined": {"reason": "person_id"},
    "NominationWithdrawn": {"reason": "person_id"},
}
"""Event type -> {personal field -> field naming the data subject}."""

PERSONAL_FIELD_NAMES: Final[frozenset[str]] = frozenset(
    name
    for fields in PERSONAL_FIELDS.values()
    for name in fields
    if name != "changes"  # the correction's container, not a target's field
)
"""Every field name that holds personal data in some event type."""

NESTED_FIELDS: Final[Mapping[tuple[str, str], frozenset[str] | None]] = {
    ("EventCorrected", "changes"): PERSONAL_FIELD_NAMES,
    ("PromotionRecorded", "evidence"): None,
    ("MentorshipCorrected", "changes"): frozenset({"goals", "outcome"}),
    ("PromotionNominated", "evidence"): None,
}
"""``(type, field)`` whose value is an object sealed entry by entry, keys left readable:
a correction's ``changes`` seals only the entries naming a personal field (a corrected
level or date stays readable, so an erasure changes no level or date); ``None`` seals
every entry (a promotion's evidence: which areas had evidence stays known)."""

NOT_PERSONAL: Final[Mapping[str, frozenset[str]]] = {
    "PersonalDataErased": frozenset({"reason", "reference"}),
    "PromotionCycleOpened": frozenset({"name"}),
    "PromotionReviewersNamed": frozenset({"named_by"}),
}
"""Fields that look personal by name but are not (a code, a ticket id, a cycle's name,
a token subject)."""

MAX_REFERENCE = 80


class PersonalDataAlreadyErased(errors.LadderError):
    """Erasing twice: the first erasure stands and nothing is written."""

    code = "PERSONAL_DATA_ALREADY_ERASED"
    default_field = "personId"


def subject_fields(type_name: str) -> Mapping[str, str] | None:
    """The personal fields of ``type_name`` and their subject fields (None: none)."""
    return PERSONAL_FIELDS.get(type_name)


def decide_erasure(
    state: PersonState, command: cmd.ErasePersonalData, today: date
) -> ev.PersonalDataErased:
    """The erasure event for ``command``; raises ``LadderError`` (nothing written)."""
    pid = command.person_id
    if not state.exists and state.version == 0:
        raise errors.PersonNotFound(f"no person {pid}", ids={"personId": pid})
    if command.reason not in ERASURE_REASONS:
        raise errors.InvalidInput(
            f"reason must be one of {', '.join(sorted(ERASURE_REASONS))}", field="reason"
        )
    reference = command.reference
    if reference is not None:
        reference = reference.strip() or None
    if reference is not None and (
        len(reference) > MAX_REFERENCE
        or not all(ch.isascii() and (ch.isalnum() or ch in "-_.:/#") for ch in reference)
    ):
        raise errors.InvalidInput(
            f"reference must be a ticket id: at most {MAX_REFERENCE} letters, digits or -_.:/#",
            field="reference",
        )
    if state.erased:
        raise PersonalDataAlreadyErased(
            f"the personal data of {pid} is already erased", ids={"personId": pid}
        )
    return ev.PersonalDataErased(
        person_id=pid, effective_on=today, reason=command.reason, reference=reference
    )
