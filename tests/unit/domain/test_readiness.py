from datetime import date
from uuid import uuid4

from domain import events as ev
from domain.ladder import default_ladder
from domain.readiness import months_between, readiness

from .helpers import departed, given, hired, promoted

ON = date(2024, 1, 1)


def test_a_new_hire_is_missing_everything_for_the_next_level() -> None:
    r = readiness(given(hired(on=date(2023, 1, 1))), default_ladder(), ON)
    assert r.next_level is not None and r.next_level.key == "pm"
    assert r.missing == (
        "experience",
        "mentorship",
        "role_rotation",
        "leadership_training",
        "performance_and_impact",
    )
    assert not r.ready
    assert r.months_in_level == 12


def test_a_person_with_experience_and_development_is_ready() -> None:
    pid = uuid4()
    state = given(
        hired(pid, on=date(2020, 1, 1), prior_years=1),
        ev.MentorshipStarted(pid, date(2021, 1, 1), uuid4(), uuid4(), pid, ("grow",), False),
        ev.RoleRotationStarted(
            pid, date(2021, 2, 1), uuid4(), "Data", "business_impact", date(2021, 5, 1)
        ),
        ev.LeadershipTrainingCompleted(pid, date(2021, 6, 1), "Lead well", "leadership_training"),
    )
    rotation = state.rotations[0]
    state = given(
        *state.recorded,
        *state.mentorship_events,
        ev.RoleRotationEnded(pid, date(2021, 5, 1), rotation.rotation_id, "done"),
    )
    r = readiness(state, default_ladder(), ON)
    assert r.experience_met and r.mentorship_done and r.rotation_done and r.training_done
    assert r.impact_done  # the rotation was in a performance-and-impact area
    assert r.missing == ()
    assert r.ready


def test_development_before_the_current_level_does_not_count() -> None:
    pid = uuid4()
    state = given(
        hired(pid, on=date(2020, 1, 1), prior_years=5),
        ev.LeadershipTrainingCompleted(pid, date(2020, 6, 1), "Lead well", "leadership_training"),
        promoted(pid, date(2021, 1, 1), "apm", "pm"),
    )
    r = readiness(state, default_ladder(), ON)
    assert not r.training_done
    assert "leadership_training" in r.missing


def test_the_top_level_has_no_next_level() -> None:
    r = readiness(given(hired(level="vp_product")), default_ladder(), ON)
    assert r.next_level is None
    assert r.missing == ()


def test_a_departed_person_has_no_next_level() -> None:
    pid = uuid4()
    r = readiness(given(hired(pid), departed(pid, date(2022, 1, 1))), default_ladder(), ON)
    assert r.next_level is None


def test_months_between_counts_whole_months() -> None:
    assert months_between(date(2024, 1, 31), date(2024, 2, 29)) == 0
    assert months_between(date(2024, 1, 15), date(2024, 3, 15)) == 2
    assert months_between(date(2024, 3, 15), date(2024, 1, 15)) == 0


def test_a_director_is_missing_leadership_experience_for_vp_until_two_years_in() -> None:
    pid = uuid4()
    state = given(hired(pid, level="director", prior_years=15, on=date(2024, 1, 8)))
    early = readiness(state, default_ladder(), date(2025, 1, 8))
    assert "leadership_experience" in early.missing
    later = readiness(state, default_ladder(), date(2026, 1, 8))
    assert "leadership_experience" not in later.missing


def test_performance_and_impact_counts_development_in_its_areas_at_the_current_level() -> None:
    pid = uuid4()
    hire = hired(pid, on=date(2020, 1, 1), prior_years=5)
    elsewhere = ev.LeadershipTrainingCompleted(pid, date(2021, 6, 1), "SQL", "analytics")
    assert (
        "performance_and_impact" in readiness(given(hire, elsewhere), default_ladder(), ON).missing
    )
    impact = ev.LeadershipTrainingCompleted(pid, date(2021, 6, 1), "OKRs", "business_impact")
    r = readiness(given(hire, impact), default_ladder(), ON)
    assert r.impact_done
    assert "performance_and_impact" not in r.missing
