"""Back-pressure: a WebSocket client that stops reading is closed with 4503 once its
connection's outgoing queue is full; a fast client on the same server keeps receiving, and
the slow one resumes by position with nothing missed. Real uvicorn, real sockets, both
backends."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from api.app import create_app
from api.fanout import COUNTS
from api.outbox import SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_CLOSE_REASON
from api.services import runtime_services
from events.db import create_engine
from events.sql_store import SqlEventStore
from tests.e2e.conftest import LiveServer, make_settings, serve
from tests.e2e.live_api import (
    HR,
    LEGACY_WS,
    TODAY,
    TRANSPORT_WS,
    backend_url,
    hire,
    next_data,
    promote,
    receive,
    send,
    subscribed,
)

LADDER = ["apm", "pm", "senior_pm", "group_pm", "director", "vp_product"]
QUEUE = 4
ALIASES = 40
# Large messages, so that a few dozen fill the socket buffers between the two ends.
_LEVEL = "{ key title description progression experience }"
BIG = (
    "subscription($after: Int) { promotions(afterPosition: $after) { position "
    + " ".join(f"l{i}: toLevel {_LEVEL}" for i in range(ALIASES))
    + " } }"
)
SMALL = "subscription($after: Int) { promotions(afterPosition: $after) { position } }"


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with backend_url(request.param, str(tmp_path_factory.mktemp("slow"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    settings = make_settings(
        database_url=database, ws_send_queue=QUEUE, max_aliases=ALIASES + 5, max_cost=100_000
    )
    app = create_app(settings, bootstrap=runtime_services)
    with serve(app, settings, send_buffer=16_384) as live:
        yield live


async def promotion_positions(database: str, after: int) -> list[int]:
    engine = create_engine(database)
    try:
        events = await SqlEventStore(engine).read_all(after, 100_000, types=["PromotionRecorded"])
    finally:
        await engine.dispose()
    return [e.position for e in events]


async def promote_many(client: httpx.AsyncClient, people: int) -> None:
    for _ in range(people):
        person = (await hire(client, level="apm", prior_years=20))["personId"]
        for step in range(5):
            await promote(client, person, LADDER[step + 1], TODAY - timedelta(days=200 - step))


@asynccontextmanager
async def stalled_client(
    server: LiveServer, query: str, after: int, protocol: str
) -> AsyncIterator[Any]:
    """A real client that subscribes, then stops reading: a small receive buffer and
    websockets' own queue of one frame, so the server's writes soon stop draining."""
    port = int(server.base_url.rsplit(":", 1)[1])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    async with connect(
        server.ws_url,
        sock=sock,
        subprotocols=[protocol],  # type: ignore[list-item]
        max_queue=1,
        compression=None,  # the messages repeat themselves: compressed, they would fit
        max_size=None,
        open_timeout=5,
        close_timeout=2,
    ) as ws:
        await send(ws, {"type": "connection_init", "payload": {"token": HR}})
        assert (await receive(ws))["type"] == "connection_ack"
        payload = {"query": query, "variables": {"after": after}}
        start = "subscribe" if protocol == TRANSPORT_WS else "start"
        await send(ws, {"type": start, "id": "1", "payload": payload})
        yield ws


async def positions(ws: ClientConnection, count: int) -> list[int]:
    return [(await next_data(ws, timeout=10.0))["promotions"]["position"] for _ in range(count)]


async def read_until_closed(ws: ClientConnection) -> list[int]:
    """Positions of the results still on the wire, then the close."""
    positions: list[int] = []
    try:
        while True:
            message = await receive(ws, timeout=10.0)
            if message["type"] in ("next", "data"):
                positions.append(message["payload"]["data"]["promotions"]["position"])
    except ConnectionClosed:
        return positions


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_client_that_stops_reading_is_closed_and_resumes_by_position(
    server: LiveServer, database: str, protocol: str
) -> None:
    async with server.client() as client:
        start = await gql_position(client)
        await promote_many(client, 12)
        expected = await promotion_positions(database, start)
        async with (
            stalled_client(server, BIG, start, protocol) as slow,
            subscribed(server, SMALL, {"after": start}, protocol=protocol) as fast,
        ):
            assert await positions(fast, len(expected)) == expected
            # The fast client keeps receiving live promotions while the slow one is closed.
            await promote_many(client, 1)
            live = await promotion_positions(database, expected[-1])
            assert await positions(fast, len(live)) == live
            await asyncio.sleep(0.5)
            seen = await read_until_closed(slow)
            assert slow.close_code == SLOW_CONSUMER_CLOSE_CODE
            assert slow.close_reason == SLOW_CONSUMER_CLOSE_REASON
        everything = await promotion_positions(database, start)
        assert seen == everything[: len(seen)]  # what arrived came in order, with no gap
        assert len(seen) < len(everything)
        # Resuming after the last position received delivers exactly the rest.
        resume = seen[-1] if seen else start
        rest = everything[len(seen) :]
        async with subscribed(server, SMALL, {"after": resume}, protocol=protocol) as again:
            assert await positions(again, len(rest)) == rest


async def gql_position(client: httpx.AsyncClient) -> int:
    response = await client.post(
        "/graphql",
        json={"query": "{ logPosition }"},
        headers={"authorization": f"Bearer {HR}"},
    )
    position = response.json()["data"]["logPosition"]
    assert isinstance(position, int)
    return position


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_live_member_of_a_shared_group_that_stops_reading_is_closed_alone(
    server: LiveServer, database: str, protocol: str
) -> None:
    async with server.client() as client:
        start = await gql_position(client)
        async with (
            stalled_client(server, BIG, start, protocol) as slow,
            subscribed(server, BIG, {"after": start}, protocol=protocol) as fast,
        ):
            await asyncio.sleep(0.3)  # both caught up: live events reach them from one hub
            fanned = COUNTS.hub_events
            await promote_many(client, 3)
            live = await promotion_positions(database, start)
            assert await positions(fast, len(live)) == live
            assert COUNTS.hub_events - fanned == len(live)
            seen = await read_until_closed(slow)
            assert slow.close_code == SLOW_CONSUMER_CLOSE_CODE
            assert seen == live[: len(seen)]
            assert len(seen) < len(live)
            # The hub goes on for the member that reads.
            await promote_many(client, 1)
            more = await promotion_positions(database, live[-1])
            assert await positions(fast, len(more)) == more
