"""Who may manage whom: the org chart's integrity rules.

A command that names a manager (``HirePerson``, ``RehirePerson``, ``ChangeManager``) is
judged against the manager's stream and the chain above them, which the application
service loads (``manager_chain``) before calling :func:`check_manager`:

* the manager must exist (``MANAGER_NOT_FOUND``);
* the manager must be employed on the effective date (``MANAGER_NOT_EMPLOYED``);
* the person must not be the manager's manager, directly or indirectly, as the chain
  stands on the effective date (``MANAGER_CYCLE``).

Each error names the field ``managerId``. A person managing themselves stays
``VALIDATION_ERROR`` (``checks.not_self_managed``), decided from the person's stream alone.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from datetime import date
from typing import TypeVar
from uuid import UUID

from domain import commands as cmd
from domain import errors
from domain import events as ev
from domain.career import Career
from domain.state import PersonState, apply_changes

MAX_CHAIN = 1000
"""How far up a chain is followed; an org chart is never this deep."""

K = TypeVar("K", bound=Hashable)


def manager_named(command: object) -> tuple[UUID, UUID, date] | None:
    """``(person, manager, effective date)`` for a command that sets a manager, else None."""
    if isinstance(command, cmd.HirePerson) and command.manager_id is not None:
        return command.person_id, command.manager_id, command.hired_on
    if isinstance(command, cmd.RehirePerson | cmd.ChangeManager) and command.manager_id:
        return command.person_id, command.manager_id, command.effective_on
    return None


def manager_set_by(state: PersonState, command: object) -> tuple[UUID, UUID, date] | None:
    """``manager_named``, and for a correction that gives a hire, rehire or change of
    manager another manager: ``(person, new manager, the fact's effective date)``."""
    named = manager_named(command)
    if named is not None or not isinstance(command, cmd.CorrectEvent):
        return named
    if command.changes.get("manager_id") is None:
        return None
    target = state.corrected_facts.get(command.target_event_id)
    if not isinstance(target, ev.PersonHired | ev.PersonRehired | ev.ManagerChanged):
        return None
    fixed = apply_changes(target, command.changes)
    if not isinstance(fixed, ev.PersonHired | ev.PersonRehired | ev.ManagerChanged):
        return None
    if fixed.manager_id is None:
        return None
    return fixed.person_id, fixed.manager_id, fixed.effective_on


def manager_on(state: PersonState, on: date) -> UUID | None:
    """The person's manager as effective on ``on`` (None without a career then)."""
    career = state.view_on(on)
    return career.manager_id if career.exists else None


def employed_on(career: Career, on: date) -> bool:
    """Whether ``on`` falls in one of the career's employment periods (last day included)."""
    return any(p.start <= on and (p.end is None or on <= p.end) for p in career.periods)


def check_manager(
    person_id: UUID, manager_id: UUID, on: date, chain: Mapping[UUID, PersonState]
) -> None:
    """Raise unless ``manager_id`` may manage ``person_id`` from ``on``.

    ``chain`` holds the states of ``manager_id`` and of the managers above them on ``on``
    (missing entries end the walk). An older cycle above the manager that does not pass
    through ``person_id`` is not this command's doing, and is not refused here.
    """
    ids = {"personId": person_id, "managerId": manager_id}
    manager = chain.get(manager_id)
    if manager is None or not manager.exists or manager.person_id != manager_id:
        raise errors.ManagerNotFound(f"no person {manager_id} to be the manager", ids=ids)
    if not employed_on(manager.career, on):
        raise errors.ManagerNotEmployed(f"{manager_id} is not employed on {on}", ids=ids)
    seen: set[UUID] = set()
    current: UUID | None = manager_id
    while current is not None and current not in seen and len(seen) < MAX_CHAIN:
        if current == person_id:
            raise errors.ManagerCycle(
                f"{person_id} manages {manager_id} (directly or indirectly) on {on}", ids=ids
            )
        seen.add(current)
        above = chain.get(current)
        current = None if above is None else manager_on(above, on)


def reports_in(chart: Mapping[K, K | None], manager: K, depth: int | None = None) -> list[K]:
    """The people below ``manager`` in ``chart`` (person -> manager), nearest first.

    ``depth`` 1 gives the direct reports, 2 adds theirs, and so on; None goes all the way
    down. A person is listed once, even if an old loop in the chart leads back to them.
    """
    below: dict[K, list[K]] = {}
    for person, boss in chart.items():
        if boss is not None and person != boss:
            below.setdefault(boss, []).append(person)
    found: list[K] = []
    seen = {manager}
    level = [manager]
    while level and (depth is None or depth > 0):
        level = [p for boss in level for p in below.get(boss, []) if p not in seen]
        seen.update(level)
        found.extend(level)
        depth = None if depth is None else depth - 1
    return found
