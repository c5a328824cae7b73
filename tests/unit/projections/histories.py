"""Hypothesis sequences of operations for ``domain.simulation.Simulator``.

``operations()`` is a strategy of operation sequences; ``simulate`` (in
``domain.simulation``) turns one into a history the real service could have written.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from domain.simulation import KINDS


def operations(max_size: int = 40) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    """Sequences of operations, in roughly chronological order (offsets sorted)."""
    op = st.tuples(
        st.sampled_from(KINDS),
        st.integers(0, 50),
        st.integers(0, 6 * 365),
        st.integers(0, 1000),
    )
    return st.lists(op, min_size=1, max_size=max_size).map(lambda ops: sorted(ops, key=_day))


def _day(op: tuple[Any, ...]) -> int:
    day: int = op[2]
    return day
