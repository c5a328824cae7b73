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
