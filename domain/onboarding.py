"""Bulk onboarding: a CSV of people to hire, judged row by row with the hire rules.

Pure: the caller passes the people already known (by email, and the states of the
managers the file names who are not in it). ``plan_onboarding`` answers the hires in an
order where every manager is hired before their reports, and one ``RowError`` per bad row
(its line, the column at fault and the rule's code), so a file is imported whole or not
at all.

Columns (a header line names them, in any order): ``name``, ``email``, ``track``,
``level``, ``hired_on`` (YYYY-MM-DD), ``prior_years`` (default 0), ``manager_email`` (a
person in the file or already hired), ``experience_exception`` (required when ``level``
is granted below its experience minimum), ``person_id`` (optional: by default a UUID
derived from the email, so the same file names the same people).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid5

from domain import commands as c
from domain import errors
from domain import events as ev
from domain.checks import DecisionContext
from domain.org_chart import check_manager
from domain.rules import decide
from domain.state import PersonState, fold

COLUMNS = (
    "name",
    "email",
    "track",
    "level",
    "hired_on",
    "prior_years",
    "manager_email",
    "experience_exception",
    "person_id",
)
REQUIRED = ("name", "email", "track", "level", "hired_on")
PEOPLE_NAMESPACE = UUID("0b6f3f7e-4c1a-5d2e-8f90-1a2b3c4d5e6f")
"""Person ids derived from emails (``person_id`` left empty) live in this UUID namespace."""

_COLUMN_OF = {
    "personId": "person_id",
    "name": "name",
    "email": "email",
    "track": "track",
    "level": "level",
    "hiredOn": "hired_on",
    "priorYears": "prior_years",
    "managerId": "manager_email",
    "experienceException": "experience_exception",
}


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad row: its line in the file, the column at fault ("" for the whole row)."""

    line: int
    column: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.column or '-'}: {self.code}: {self.message}"


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    values: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Hire:
    line: int
    command: c.HirePerson
    events: tuple[ev.PersonEvent, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    hires: tuple[Hire, ...]
    """Managers before their reports."""
    errors: tuple[RowError, ...]
    """In line order; the file may be imported only when there are none."""


def read_rows(text: str) -> tuple[list[Row], list[RowError]]:
    """The data rows of a CSV file (blank lines skipped), or the header's problems."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    problems = [
        RowError(1, name, "VALIDATION_ERROR", "missing column")
        for name in REQUIRED
        if name not in header
    ]
    problems += [
        RowError(1, name, "VALIDATION_ERROR", "unknown column")
        for name in header
        if name not in COLUMNS
    ]
    if problems:
        return [], problems
    reader.fieldnames = header
    rows: list[Row] = []
    for record in reader:
        values = {k: (v or "").strip() for k, v in record.items() if isinstance(k, str)}
        if any(values.values()):
            # The line the record ends on (csv skips blank lines by itself).
            rows.append(Row(reader.line_num, values))
    return rows, []


def digest(rows: Sequence[Row]) -> str:
    """What the file says, as a SHA-256: the same rows make the same idempotency key."""
    h = hashlib.sha256()
    for row in rows:
        h.update(repr(sorted(row.values.items())).encode())
    return h.hexdigest()


def _command(row: Row, ids: Mapping[str, UUID]) -> c.HirePerson:
    v = row.values

    def bad(column: str, message: str) -> errors.InvalidInput:
        return errors.InvalidInput(message, field=column)

    for name in REQUIRED:
        if not v.get(name):
            raise bad(name, "required")
    try:
        hired_on = date.fromisoformat(v["hired_on"])
    except ValueError:
        raise bad("hired_on", "not a date (YYYY-MM-DD)") from None
    try:
        prior = float(v.get("prior_years") or 0)
    except ValueError:
        raise bad("prior_years", "not a number") from None
    # An unknown manager is left out here and refused after the row's own rules, so a row
    # reports its own mistake before its manager's.
    manager_id = ids.get(v.get("manager_email", "").lower())
    return c.HirePerson(
        person_id=ids[v["email"].lower()],
        name=v["name"],
        email=v["email"],
        track=v["track"],
        level=v["level"],
        hired_on=hired_on,
        prior_years=prior,
        manager_id=manager_id,
        experience_exception=v.get("experience_exception") or None,
    )


def _person_id(row: Row) -> UUID:
    given = row.values.get("person_id")
    if not given:
        return uuid5(PEOPLE_NAMESPACE, row.values.get("email", "").lower())
    try:
        return UUID(given)
    except ValueError:
        raise errors.InvalidInput("not a UUID", field="person_id") from None


def plan_onboarding(
    rows: Sequence[Row],
    ctx: DecisionContext,
    *,
    known_emails: Mapping[str, UUID],
    known: Mapping[UUID, PersonState],
) -> Plan:
    """Judge every row: ``known_emails`` are the people already hired (lowercase email ->
    id), ``known`` the states of those of them the file names as managers, and of the
    managers above them."""
    found: dict[int, RowError] = {}

    def refuse(row: Row, error: errors.LadderError) -> None:
        column = _COLUMN_OF.get(error.field or "", error.field or "")
        found.setdefault(row.line, RowError(row.line, column, error.code, error.message))

    ids: dict[str, UUID] = dict(known_emails)
    in_file: dict[str, int] = {}
    seen_ids: set[UUID] = set()
    for row in rows:
        email = row.values.get("email", "").lower()
        try:
            person_id = _person_id(row)
        except errors.LadderError as exc:
            refuse(row, exc)
            continue
        if email in ids:
            refuse(row, errors.EmailAlreadyUsed(f"{email} is already used", field="email"))
            continue
        if person_id in seen_ids or person_id in known.keys() | set(known_emails.values()):
            refuse(row, errors.PersonAlreadyExists(f"{person_id} exists", field="personId"))
            continue
        if email:
            ids[email] = person_id
            in_file[email] = row.line
        seen_ids.add(person_id)

    decided: dict[UUID, Hire] = {}
    states: dict[UUID, PersonState] = dict(known)
    for row in rows:
        if row.line in found:
            continue
        try:
            command = _command(row, ids)
            events = tuple(decide(PersonState(), command, ctx))
            if (manager := row.values.get("manager_email", "")) and command.manager_id is None:
                raise errors.ManagerNotFound(f"no person with email {manager}", field="managerId")
        except errors.LadderError as exc:
            refuse(row, exc)
            continue
        decided[command.person_id] = Hire(row.line, command, events)
        states[command.person_id] = fold(events)

    ordered: list[Hire] = []
    placed: set[UUID] = set()
    failed: set[UUID] = set()
    by_line = {row.line: row for row in rows}

    def fail(hire: Hire, error: errors.LadderError) -> None:
        refuse(by_line[hire.line], error)
        failed.add(hire.command.person_id)

    def settle(hire: Hire) -> None:
        """Place ``hire`` after the managers above it in the file (a loop, not recursion:
        a file may hold a chain of any length)."""
        chain = [hire]
        on_chain = {hire.command.person_id: 0}
        while (up := chain[-1].command.manager_id) is not None:
            if up not in decided or up in placed or up in failed:
                break
            if up in on_chain:  # a cycle: everyone on it is refused, and those below
                for member in chain[on_chain[up] :]:
                    fail(member, errors.ManagerCycle("managers in a cycle", field="managerId"))
                chain = chain[: on_chain[up]]
                break
            on_chain[up] = len(chain)
            chain.append(decided[up])
        for below in reversed(chain):  # the top manager first
            person_id, manager_id = below.command.person_id, below.command.manager_id
            if manager_id is not None and manager_id in failed:
                fail(
                    below, errors.ManagerNotFound("the manager's row is refused", field="managerId")
                )
                continue
            if manager_id is not None:
                try:
                    check_manager(person_id, manager_id, below.command.hired_on, states)
                except errors.LadderError as exc:
                    fail(below, exc)
                    continue
            placed.add(person_id)
            ordered.append(below)

    for hire in decided.values():
        if hire.command.person_id not in placed and hire.command.person_id not in failed:
            settle(hire)
    bad = tuple(found[line] for line in sorted(found))
    return Plan(tuple(h for h in ordered if h.line not in found), bad)
