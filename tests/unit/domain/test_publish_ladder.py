from dataclasses import replace
from uuid import uuid4

import pytest

from domain import commands as cmd
from domain.errors import LadderError
from domain.ladder import Ladder, bundled_ladder, default_ladder
from domain.person import decide_ladder, decide_level_mapping, fold

from .helpers import CTX, TODAY, given, hired


def test_the_first_publication_of_a_track_is_version_one() -> None:
    [event] = decide_ladder(None, cmd.PublishLadder(default_ladder()), CTX)
    assert (event.track, event.version, event.effective_on) == ("product", 1, TODAY)
    assert Ladder.from_dict(event.ladder) == default_ladder()


def test_a_changed_ladder_is_published_as_the_next_version() -> None:
    current = default_ladder().with_version(3)
    changed = replace(default_ladder(), name="Product")
    [event] = decide_ladder(current, cmd.PublishLadder(changed), CTX)
    assert event.version == 4
    assert event.ladder["version"] == 4


def test_publishing_an_unchanged_ladder_again_is_refused() -> None:
    with pytest.raises(LadderError) as caught:
        decide_ladder(default_ladder(), cmd.PublishLadder(default_ladder().with_version(9)), CTX)
    assert caught.value.code == "LADDER_UNCHANGED"


def test_a_ladder_cannot_replace_another_track() -> None:
    with pytest.raises(LadderError) as caught:
        decide_ladder(default_ladder(), cmd.PublishLadder(bundled_ladder("engineering")), CTX)
    assert caught.value.code == "VALIDATION_ERROR"


def test_an_invalid_ladder_is_not_published() -> None:
    broken = replace(
        default_ladder(), levels=(*default_ladder().levels, default_ladder().levels[0])
    )
    with pytest.raises(LadderError) as caught:
        decide_ladder(None, cmd.PublishLadder(broken), CTX)
    assert caught.value.code == "LADDER_INVALID"


def _without(ladder: Ladder, key: str) -> Ladder:
    data = ladder.to_dict()
    levels = [dict(lv) for lv in data["levels"] if lv["key"] != key]
    for rank, level in enumerate(levels, start=1):
        level["rank"] = rank
    return Ladder.from_dict({**data, "levels": levels})


def test_a_version_that_drops_a_level_people_are_on_is_refused_naming_it() -> None:
    smaller = _without(default_ladder(), "group_pm")
    with pytest.raises(LadderError) as caught:
        decide_ladder(default_ladder(), cmd.PublishLadder(smaller), CTX, {"group_pm": 3, "pm": 9})
    assert (caught.value.code, caught.value.field) == ("LADDER_LEVELS_OCCUPIED", "levels")
    assert caught.value.ids["levels"] == "group_pm"
    assert "group_pm (3)" in caught.value.message


def test_a_version_that_drops_a_level_nobody_is_on_is_published() -> None:
    smaller = _without(default_ladder(), "vp_product")
    [event] = decide_ladder(default_ladder(), cmd.PublishLadder(smaller), CTX, {"pm": 9})
    assert event.version == default_ladder().version + 1


def _renamed(ladder: Ladder, old: str, new: str) -> Ladder:
    data = ladder.to_dict()
    levels = [dict(lv) for lv in data["levels"]]
    for level in levels:
        if level["key"] == old:
            level["key"] = new
    return Ladder.from_dict({**data, "levels": levels})


def test_a_mapping_lets_a_version_rename_an_occupied_level_and_is_recorded() -> None:
    new = _renamed(default_ladder(), "group_pm", "group_lead")
    command = cmd.PublishLadder(new, level_mapping={"group_pm": "group_lead"})
    [event] = decide_ladder(default_ladder(), command, CTX, {"group_pm": 2})
    assert event.level_mapping == {"group_pm": "group_lead"}


@pytest.mark.parametrize(
    "mapping",
    [{"nope": "group_lead"}, {"pm": "group_lead"}, {"group_pm": "nope"}],
)
def test_a_mapping_must_go_from_a_dropped_level_to_a_level_of_the_new_version(
    mapping: dict[str, str],
) -> None:
    new = _renamed(default_ladder(), "group_pm", "group_lead")
    with pytest.raises(LadderError) as caught:
        decide_ladder(default_ladder(), cmd.PublishLadder(new, level_mapping=mapping), CTX)
    assert (caught.value.code, caught.value.field) == ("VALIDATION_ERROR", "levelMapping")


def test_people_on_a_mapped_level_move_on_the_publish_date_keeping_their_time_in_level() -> None:
    pid = uuid4()
    state = given(hired(pid, level="group_pm", prior_years=9))
    new = _renamed(default_ladder(), "group_pm", "group_lead")
    command = cmd.PublishLadder(new, level_mapping={"group_pm": "group_lead"})
    [published] = decide_ladder(default_ladder(), command, CTX, {"group_pm": 1})
    moved = decide_level_mapping(state, published)
    assert moved is not None
    assert (moved.from_level, moved.to_level, moved.effective_on) == (
        "group_pm",
        "group_lead",
        TODAY,
    )
    after = fold([*state.recorded, moved])
    assert after.career.level == "group_lead"
    assert after.career.level_since == state.career.level_since
    assert decide_level_mapping(given(hired(uuid4(), level="pm", prior_years=3)), published) is None
