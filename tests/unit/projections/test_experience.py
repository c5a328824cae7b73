"""Experience on a day is one figure everywhere, for people who left and came back too: the
domain's career, ``careerHistory(asOf:)``'s view, readiness, and the people row wherever the
row says it can tell (the API asks the log on the other days)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import commands as cmd
from domain.readiness import readiness
from domain.simulation import BASE, Simulator, simulate
from domain.state import fold
from events.projections import people, replay
from events.readmodels.views import PersonView
from tests.unit.projections.envelopes import envelopes
from tests.unit.projections.histories import operations

TOLERANCE = 1e-6
DAYS = st.lists(st.integers(-400, 7 * 365), min_size=1, max_size=10)


def check_every_view_agrees(sim: Simulator, days: list[date]) -> None:
    rows = replay(people, envelopes(sim.events))
    for pid in sim.states:
        state = fold(e for e in sim.events if e.person_id == pid)
        row = PersonView.from_row(rows[str(pid)])
        for on in days:
            expected = state.career.years_of_experience(on)
            as_of = state.view_on(on)  # what careerHistory(asOf:) and `ladder replay` fold
            if as_of.exists:
                assert abs(as_of.years_of_experience(on) - expected) < TOLERANCE, on
                found = readiness(state, sim.ladder, on).years_of_experience
                assert abs(found - expected) < TOLERANCE, on
            if row.experience_exact_on(on):
                assert abs(row.years_of_experience(on) - expected) < TOLERANCE, on


@settings(max_examples=80, deadline=None)
@given(operations(), DAYS)
def test_experience_on_any_day_is_the_same_in_every_view(
    ops: list[tuple[Any, ...]], offsets: list[int]
) -> None:
    check_every_view_agrees(simulate(ops), [BASE + timedelta(days=d) for d in offsets])


def test_a_rehired_persons_experience_stops_during_the_gap_and_resumes_after() -> None:
    sim = Simulator()
    pid = sim.hire(date(2020, 1, 6), 1, 1.0, None)
    assert sim.run(cmd.RecordDeparture(pid, date(2021, 1, 5), "Career break."))
    assert sim.run(cmd.RehirePerson(pid, date(2022, 1, 5), sim.ladder.track, "apm", None))
    days = [date(2019, 6, 1), date(2020, 7, 1), date(2021, 6, 1), date(2022, 6, 1)]
    check_every_view_agrees(sim, days)
    career = sim.state(pid).career
    gap = career.years_of_experience(date(2021, 6, 1))
    assert gap == career.years_of_experience(date(2022, 1, 5))  # frozen while away
    assert career.years_of_experience(date(2022, 6, 1)) > gap
    row = PersonView.from_row(replay(people, envelopes(sim.events))[str(pid)])
    assert not row.experience_exact_on(date(2021, 6, 1))  # the API asks the log then
