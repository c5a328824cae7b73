"""Upcasters chain from the stored schema version to the newest."""

from __future__ import annotations

from typing import Any

import pytest

from events.upcasting import UpcasterRegistry


def test_upcasters_chain_until_none_matches() -> None:
    reg = UpcasterRegistry()
    reg.add("T", 1, lambda d: {**d, "v2": True})
    reg.add("T", 2, lambda d: {**d, "v3": True})
    assert reg.upcast("T", 1, {}) == (3, {"v2": True, "v3": True})
    assert reg.upcast("T", 2, {}) == (3, {"v3": True})
    assert reg.upcast("T", 3, {"x": 1}) == (3, {"x": 1})
    assert reg.upcast("Other", 1, {}) == (1, {})


def test_registering_the_same_step_twice_fails() -> None:
    reg = UpcasterRegistry()

    @reg.register("T", 1)
    def up(d: dict[str, Any]) -> dict[str, Any]:
        return d

    with pytest.raises(ValueError, match="already registered"):
        reg.add("T", 1, up)


def test_an_empty_registry_is_falsy() -> None:
    assert not UpcasterRegistry()
