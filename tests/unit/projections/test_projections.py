from __future__ import annotations

from datetime import date
from typing import Any
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import commands as cmd
from domain import events as ev
from domain.readiness import readiness
from domain.simulation import TODAY, Simulator, simulate
from domain.state import fold
from events.projections import ALL, people, replay, rotations, timeline
from events.projections.base import Projection, Row, Workspace
from events.projections.development import _derive
from events.readmodels.queries import readiness_of
from events.readmodels.views import PersonView
from tests.unit.projections.envelopes import envelopes
from tests.unit.projections.histories import operations


def incrementally(projection: Projection, envs: list[Any], batch: int) -> dict[object, Row]:
    """What the projector does, with a dict for the table: load, apply, write per batch."""
    table: dict[object, Row] = {}
    cols = projection.columns
    for start in range(0, len(envs), batch):
        chunk = envs[start : start + batch]
        ws = Workspace(projection, complete=False)
        wanted = ws.missing(chunk)
        ws.load(
            wanted,
            [
                dict(row)
                for row in table.values()
                if any(row[col] in values for col, values in wanted.items())
            ],
        )
        for env in chunk:
            ws.apply(env)
        deleted, inserted = ws.take_changes()
        for pk in deleted:
            table.pop(pk, None)
        for row in inserted:
            table[row[projection.pk]] = {c: row[c] for c in cols}
    return table


@settings(max_examples=60, deadline=None)
@given(operations(), st.integers(1, 9))
def test_applying_in_small_batches_equals_replaying_from_nothing(
    ops: list[tuple[Any, ...]], batch: int
) -> None:
    envs = envelopes(simulate(ops).events)
    for projection in ALL:
        assert incrementally(projection, envs, batch) == replay(projection, envs), projection


@settings(max_examples=60, deadline=None)
@given(operations())
def test_the_people_row_shows_the_career_the_domain_derives(ops: list[tuple[Any, ...]]) -> None:
    sim = simulate(ops)
    rows = replay(people, envelopes(sim.events))
    for pid, state in sim.states.items():
        career = fold(e for e in sim.events if e.person_id == pid).career
        row = rows[str(pid)]
        assert (row["level"], row["status"], row["level_since"]) == (
            career.level,
            career.status,
            career.level_since or date.min,
        )
        assert row["active_mentees"] == len(state.mentees)


def test_rescinding_a_rotation_start_voids_the_rotation_and_undoing_it_restores_it() -> None:
    sim = Simulator()
    pid = sim.hire(date(2020, 1, 6), 1, 0.0, None)
    rid = uuid4()
    [start] = sim.run(
        cmd.StartRotation(
            rotation_id=rid,
            person_id=pid,
            host_team="Growth",
            development_area="role_rotation",
            effective_on=date(2021, 1, 4),
            planned_end_on=date(2021, 3, 31),
        )
    )
    rows = replay(rotations, envelopes(sim.events))
    assert list(rows) == [str(rid)]
    rescind = ev.EventRescinded(
        person_id=pid,
        effective_on=date(2021, 2, 1),
        target_event_id=start.event_id,
        reason="never happened",
    )
    [voided] = replay(rotations, envelopes([*sim.events, rescind])).values()
    assert voided["void"] is True
    undo = ev.EventRescinded(
        person_id=pid,
        effective_on=date(2021, 2, 2),
        target_event_id=rescind.event_id,
        reason="it did happen",
        fact_event_id=start.event_id,
    )
    [restored] = replay(rotations, envelopes([*sim.events, rescind, undo])).values()
    [original] = rows.values()
    assert {k: v for k, v in restored.items() if k != "facts"} == {
        k: v for k, v in original.items() if k != "facts"
    }


@settings(max_examples=60, deadline=None)
@given(operations())
def test_a_rotation_row_is_what_the_domain_folds_from_its_facts(ops: list[tuple[Any, ...]]) -> None:
    # The start and an unfixed end take their columns straight from the events; a row
    # folded again from its facts by the domain must read the same.
    sim = simulate(ops)
    for row in replay(rotations, envelopes(sim.events)).values():
        assert row == {**_derive(row), "position": row["position"]}


def test_a_correction_is_a_mark_on_its_target_not_a_row_of_its_own() -> None:
    sim = Simulator()
    pid = sim.hire(date(2020, 1, 6), 1, 0.0, None)
    [hire] = sim.events
    fix = ev.EventCorrected(
        person_id=pid,
        effective_on=date(2020, 2, 1),
        target_event_id=hire.event_id,
        changes={"name": "Ada Lovelace"},
        reason="typo",
    )
    [row] = replay(timeline, envelopes([hire, fix])).values()
    assert row["data"]["name"] == "Ada Lovelace"
    assert row["original_data"]["name"] == "Person 000000"
    assert row["corrected_by"] == str(fix.event_id)


@settings(max_examples=60, deadline=None)
@given(operations())
def test_readiness_from_the_people_row_agrees_with_the_domain(ops: list[tuple[Any, ...]]) -> None:
    sim = simulate(ops)
    rows = replay(people, envelopes(sim.events))
    for pid, state in sim.states.items():
        expected = readiness(state, sim.ladder, TODAY)
        found = readiness_of(PersonView.from_row(rows[str(pid)]), sim.ladder, TODAY)
        assert found.next_level == (expected.next_level.key if expected.next_level else None)
        assert found.missing == expected.missing
        assert (found.mentorship_done, found.rotation_done, found.training_done) == (
            expected.mentorship_done,
            expected.rotation_done,
            expected.training_done,
        ) or found.next_level is None
        assert abs(found.years_of_experience - expected.years_of_experience) < 1e-6
        assert found.rotation_overdue == expected.rotation_overdue


def flushed_every(
    projection: Projection, envs: list[Any], every: int
) -> tuple[dict[object, Row], int]:
    """A rebuild's workspace (it starts holding every row) written to a dict for the table
    and forgotten every ``every`` events: the table, and how many lookups it was asked
    for that the table could not answer."""
    table: dict[object, Row] = {}
    cols = projection.columns
    ws = Workspace(projection, complete=True)
    wasted = 0
    for start in range(0, len(envs), every):
        chunk = envs[start : start + every]
        wanted = ws.missing(chunk)
        found = [
            dict(row)
            for row in table.values()
            if any(row[col] in values for col, values in wanted.items())
        ]
        wasted += sum(len(v) for v in wanted.values()) - len(found)
        ws.load(wanted, found)
        for env in chunk:
            ws.apply(env)
        deleted, inserted = ws.take_changes()
        for pk in ws.stored_keys(deleted):
            table.pop(pk, None)
        for row in inserted:
            table[row[projection.pk]] = {c: row[c] for c in cols}
        ws.forget()
    return table, wasted


@settings(max_examples=60, deadline=None)
@given(operations(), st.integers(1, 9))
def test_a_rebuild_that_forgets_its_rows_asks_the_table_only_for_rows_it_wrote(
    ops: list[tuple[Any, ...]], every: int
) -> None:
    envs = envelopes(simulate(ops).events)
    for projection in ALL:
        table, wasted = flushed_every(projection, envs, every)
        assert table == replay(projection, envs)
        # A fact seen for the first time (most events) costs no lookup at all; only rows
        # that were written and then deleted or re-keyed can be asked for in vain.
        assert wasted <= sum(1 for e in envs if e.type in {"EventRescinded", "EventCorrected"})
