from pathlib import Path

import pytest

from domain.errors import LadderInvalid, UnknownLevel
from domain.ladder import (
    DATA_DIR,
    Ladder,
    bundled_ladder,
    default_ladder,
    load_ladder_file,
    load_ladder_text,
)

GOOD = """
track = "sales"
version = 1
name = "Sales"

[[levels]]
key = "rep"
title = "Sales Representative"
rank = 1
min_years = 0

[[levels]]
key = "senior_rep"
title = "Senior Sales Representative"
rank = 2
min_years = 3

[[development_areas]]
key = "negotiation"
name = "Negotiation"
group = "craft"
description = ""
"""

BAD = """
track = "sales"
name = "Sales"

[[levels]]
key = "rep"
title = ""
rank = 2
min_years = 4

[[levels]]
key = "rep"
title = "Senior Sales Representative"
rank = 1
min_years = 3

[[development_areas]]
key = "negotiation"
name = "Negotiation"
group = "craft"

[[development_areas]]
key = "negotiation"
name = "Negotiation again"
group = "craft"
"""


def test_the_default_ladder_is_the_product_track_with_the_six_seed_levels() -> None:
    ladder = default_ladder()
    assert ladder.track == "product"
    assert [level.key for level in ladder.levels] == [
        "apm",
        "pm",
        "senior_pm",
        "group_pm",
        "director",
        "vp_product",
    ]
    assert [level.title for level in ladder.levels] == [
        "Associate Product Manager",
        "Product Manager",
        "Senior Product Manager",
        "Group Product Manager / Product Lead",
        "Director of Product Management",
        "Vice President of Product / Chief Product Officer",
    ]
    assert [level.min_years for level in ladder.levels] == [0, 2, 5, 8, 10, 12]
    assert [level.rank for level in ladder.levels] == [1, 2, 3, 4, 5, 6]


def test_the_default_ladder_keeps_the_seed_texts_verbatim() -> None:
    senior = default_ladder().level("senior_pm")
    assert senior.description.startswith(
        "Takes on larger, more complex products or product lines, with a significant impact "
        "on the company\u2019s bottom line."
    )
    assert senior.progression == (
        "Moves to Group Product Manager or Product Lead, depending on the organization's "
        "structure, based on demonstrated strategic vision and leadership."
    )
    assert default_ladder().level("vp_product").experience == (
        "12+ years, with significant leadership experience."
    )


def test_the_development_areas_come_from_the_additional_considerations() -> None:
    areas = {a.key: a.group for a in default_ladder().development_areas}
    assert areas == {
        "ux_design": "cross_functional",
        "analytics": "cross_functional",
        "technical_understanding": "cross_functional",
        "mentorship": "mentorship_and_leadership",
        "leadership_training": "mentorship_and_leadership",
        "role_rotation": "mentorship_and_leadership",
        "business_impact": "performance_and_impact",
        "leadership_qualities": "performance_and_impact",
        "team_contribution": "performance_and_impact",
    }


def test_next_level_is_the_level_right_above() -> None:
    ladder = default_ladder()
    assert ladder.next_level("pm") == ladder.level("senior_pm")
    assert ladder.next_level("vp_product") is None
    assert ladder.first_level.key == "apm"


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(UnknownLevel) as caught:
        default_ladder().level("intern")
    assert caught.value.code == "UNKNOWN_LEVEL"
    assert caught.value.ids == {"track": "product", "level": "intern"}


def test_a_ladder_round_trips_through_its_dict() -> None:
    for ladder in (default_ladder(), bundled_ladder("engineering")):
        assert Ladder.from_dict(ladder.to_dict()) == ladder


def test_a_good_ladder_file_loads() -> None:
    ladder = load_ladder_text(GOOD, "sales.toml")
    assert ladder.track == "sales"
    assert ladder.next_level("rep") == ladder.level("senior_rep")


def test_a_bad_ladder_file_gets_one_error_listing_every_problem() -> None:
    with pytest.raises(LadderInvalid) as caught:
        load_ladder_text(BAD, "sales.toml")
    problems = caught.value.problems
    text = "\n".join(problems)
    assert "title must be a non-empty string" in text
    assert "duplicate key 'rep'" in text
    assert "rank 1 must be above the previous level's rank 2" in text
    assert "min_years 3 must not be below the previous level's 4" in text
    assert "duplicate key 'negotiation'" in text
    assert len(problems) == 5
    assert caught.value.code == "LADDER_INVALID"


def test_a_ladder_without_levels_is_invalid() -> None:
    with pytest.raises(LadderInvalid) as caught:
        load_ladder_text('track = "x"\nname = "X"\nlevels = []\n')
    assert caught.value.problems == ["ladder: at least one level is required"]


def test_a_file_that_is_not_toml_is_invalid() -> None:
    with pytest.raises(LadderInvalid) as caught:
        load_ladder_text("track = ")
    assert caught.value.problems[0].startswith("not valid TOML")


def test_a_missing_file_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(LadderInvalid):
        load_ladder_file(tmp_path / "nope.toml")


def test_every_bundled_ladder_file_is_valid() -> None:
    files = sorted(DATA_DIR.glob("*.toml"))
    assert {f.stem for f in files} >= {"product", "engineering"}
    for path in files:
        assert load_ladder_file(path).track == path.stem


def test_a_track_key_must_fit_in_a_stream_name() -> None:
    with pytest.raises(LadderInvalid) as caught:
        load_ladder_text(GOOD.replace('track = "sales"', 'track = "Sales Team"'))
    assert "lower snake case" in caught.value.problems[0]


def test_a_level_may_require_leadership_experience_and_unknown_requirements_are_refused() -> None:
    ladder = default_ladder()
    assert ladder.level("vp_product").requires == ("leadership_experience",)
    assert "requires" not in ladder.level("pm").to_dict()  # older ladders read the same
    data = ladder.to_dict()
    data["levels"][0]["requires"] = ["charisma"]
    with pytest.raises(LadderInvalid) as caught:
        Ladder.from_dict(data)
    assert "unknown requirement 'charisma'" in str(caught.value.problems)
