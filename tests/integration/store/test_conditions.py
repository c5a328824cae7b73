"""A part of an append without events is a condition: the other parts are written only
while that stream is at its expected version, and nothing is written to it."""

from __future__ import annotations

import pytest

from events.errors import EmptyAppend, WrongExpectedVersion
from events.port import ANY, NO_STREAM, StreamAppend
from events.sql_store import SqlEventStore
from tests.integration.store.helpers import count_rows, ev


async def test_a_condition_met_lets_the_append_through_and_writes_nothing_to_its_stream(
    store: SqlEventStore,
) -> None:
    await store.append("cycles-all", [ev()], NO_STREAM)
    positions = await store.append_streams(
        [StreamAppend("case-1", [ev()], NO_STREAM), StreamAppend("cycles-all", [], 1)]
    )
    assert positions == [2]
    assert len(await store.read_stream("cycles-all")) == 1
    assert await store.stream_version("case-1") == 1


async def test_a_condition_on_a_stream_that_moved_refuses_the_whole_append(
    store: SqlEventStore,
) -> None:
    await store.append("cycles-all", [ev()], NO_STREAM)
    await store.append("cycles-all", [ev()], 1)
    with pytest.raises(WrongExpectedVersion):
        await store.append_streams(
            [StreamAppend("case-1", [ev()], NO_STREAM), StreamAppend("cycles-all", [], 1)]
        )
    with pytest.raises(WrongExpectedVersion):
        await store.append_streams(
            [StreamAppend("case-2", [ev()], NO_STREAM), StreamAppend("cycles-all", [], NO_STREAM)]
        )
    assert await count_rows(store) == 2


async def test_a_condition_on_no_stream_holds_until_the_stream_exists(
    store: SqlEventStore,
) -> None:
    await store.append_streams(
        [StreamAppend("case-1", [ev()], NO_STREAM), StreamAppend("cycles-all", [], NO_STREAM)]
    )
    assert await count_rows(store) == 1


async def test_conditions_alone_or_without_an_expected_version_are_refused(
    store: SqlEventStore,
) -> None:
    with pytest.raises(EmptyAppend):
        await store.append_streams([StreamAppend("cycles-all", [], NO_STREAM)])
    with pytest.raises(EmptyAppend):
        await store.append_streams(
            [StreamAppend("case-1", [ev()], NO_STREAM), StreamAppend("cycles-all", [], ANY)]
        )
    assert await count_rows(store) == 0
