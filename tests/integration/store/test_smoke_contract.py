from events.port import NO_STREAM, NewEvent
from events.sql_store import SqlEventStore


async def test_an_append_is_read_back_and_verifies(store: SqlEventStore) -> None:
    positions = await store.append("person-1", [NewEvent("A", {"x": 1})], NO_STREAM)
    assert positions == [1]
    [event] = await store.read_all()
    assert event.data == {"x": 1}
    assert (await store.verify()).ok
