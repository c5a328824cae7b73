import json
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import case_events
from domain import events as ev
from domain.ladder import default_ladder
from domain.serialization import (
    EVENT_TYPES,
    SCHEMA_VERSIONS,
    from_data,
    stream_for,
    to_data,
    type_name,
)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
FINITE = st.floats(allow_nan=False, allow_infinity=False)


def strategy_for(cls: type[ev.DomainEvent]) -> st.SearchStrategy[Any]:
    overrides: dict[str, st.SearchStrategy[Any]] = {}
    if cls in (ev.EventCorrected, ev.MentorshipCorrected):
        overrides["changes"] = st.dictionaries(st.text(), JSON, max_size=3)
    if cls is ev.LadderPublished:
        overrides["ladder"] = st.just(default_ladder().to_dict())
    if cls is ev.PersonHired:
        overrides["prior_years"] = FINITE
    return st.builds(cls, **overrides)


ANY_EVENT = st.one_of([strategy_for(cls) for cls in EVENT_TYPES.values()])


def test_every_event_type_is_registered_under_its_class_name() -> None:
    assert set(EVENT_TYPES) == {
        cls.__name__
        for cls in (
            *ev.PERSON_EVENT_TYPES,
            ev.LadderPublished,
            *case_events.CASE_EVENT_TYPES,
            *case_events.CYCLE_EVENT_TYPES,
        )
    }
    assert all(name == cls.__name__ for name, cls in EVENT_TYPES.items())
    assert set(SCHEMA_VERSIONS) == set(EVENT_TYPES)
    assert set(SCHEMA_VERSIONS.values()) == {1}


@given(ANY_EVENT)
def test_every_event_round_trips_through_json(event: ev.DomainEvent) -> None:
    data = json.loads(json.dumps(to_data(event)))
    assert from_data(type_name(event), data, event.event_id) == event


@given(ANY_EVENT)
def test_the_event_id_is_not_part_of_the_data(event: ev.DomainEvent) -> None:
    assert "event_id" not in to_data(event)


def test_data_uses_iso_dates_string_uuids_and_lists() -> None:
    pid, mid = uuid4(), uuid4()
    event = ev.MentorshipStarted(pid, date(2024, 2, 29), mid, pid, uuid4(), ("a", "b"), False)
    data = to_data(event)
    assert data["effective_on"] == "2024-02-29"
    assert data["person_id"] == str(pid)
    assert data["goals"] == ["a", "b"]
    assert data["reverse"] is False


def test_from_data_restores_the_stores_event_id() -> None:
    event = ev.PersonDeparted(uuid4(), date(2024, 1, 1), "moved away")
    stored_id = UUID(int=7)
    restored = from_data("PersonDeparted", to_data(event), stored_id)
    assert restored.event_id == stored_id


def test_an_unknown_type_name_is_refused() -> None:
    with pytest.raises(KeyError):
        from_data("PersonTeleported", {}, uuid4())


def test_person_events_go_to_the_person_stream_and_ladders_to_the_ladder_stream() -> None:
    pid = uuid4()
    assert stream_for(ev.ManagerChanged(pid, date(2024, 1, 1), None)) == f"person-{pid}"
    published = ev.LadderPublished("product", 1, {}, date(2024, 1, 1))
    assert stream_for(published) == "ladder-product"


def test_every_person_event_has_person_id_effective_on_and_a_trailing_event_id() -> None:
    from dataclasses import fields

    for cls in ev.PERSON_EVENT_TYPES:
        names = [f.name for f in fields(cls)]
        assert names[:2] == ["person_id", "effective_on"], cls
        assert names[-1] == "event_id", cls


def test_events_are_frozen() -> None:
    from dataclasses import FrozenInstanceError

    event = ev.PersonDeparted(uuid4(), date(2024, 1, 1), "moved away")
    with pytest.raises(FrozenInstanceError):
        event.reason = "other"  # type: ignore[misc]


@given(ANY_EVENT)
def test_a_decoded_event_is_an_ordinary_frozen_instance_of_its_class(event: ev.DomainEvent) -> None:
    from dataclasses import FrozenInstanceError, replace

    decoded = from_data(type_name(event), to_data(event), event.event_id)
    assert type(decoded) is type(event)
    assert repr(decoded) == repr(event)
    assert replace(decoded) == event
    with pytest.raises(FrozenInstanceError):
        decoded.event_id = uuid4()  # type: ignore[misc]
