from dataclasses import replace

import pytest

from domain import commands as cmd
from domain.errors import LadderError
from domain.ladder import Ladder, bundled_ladder, default_ladder
from domain.person import decide_ladder

from .helpers import CTX, TODAY


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
