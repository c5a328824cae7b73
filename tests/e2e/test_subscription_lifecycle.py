"""Where a subscription starts and when it ends: "from now on" fixed when the subscribe
message is read, ``logPosition`` to subscribe from a known point, and the connection closed
with code 4401 when its token expires (both subprotocols, both backends)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from api.auth import LEEWAY, Role
from api.websocket import TOKEN_EXPIRED_CLOSE_CODE
from tests.e2e.conftest import LiveServer, mint
from tests.e2e.live_api import (
    LEGACY_WS,
    TODAY,
    TRANSPORT_WS,
    backend_url,
    gql,
    hire,
    log_position,
    next_data,
    nothing_more,
    promote,
    receive,
    runtime_server,
    send,
    subscribed,
)

PROMOTIONS = """
subscription($after: Int) { promotions(afterPosition: $after) { position toLevelKey } }
"""


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
    with backend_url(request.param, str(tmp_path_factory.mktemp("lifecycle"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


async def test_log_position_is_where_the_log_ends(client: httpx.AsyncClient, database: str) -> None:
    await hire(client)
    body = await gql(client, "{ logPosition }")
    assert body["data"]["logPosition"] == await log_position(database)
    hired = await hire(client)
    assert (await gql(client, "{ logPosition }"))["data"]["logPosition"] == hired["position"]


async def test_log_position_needs_a_token(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ logPosition }", token=None)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


async def test_subscribing_after_the_log_position_misses_nothing_committed_since(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    person = (await hire(client, level="apm", prior_years=20))["personId"]
    position = (await gql(client, "{ logPosition }"))["data"]["logPosition"]
    promoted = await promote(client, person, "pm", TODAY - timedelta(days=30))
    async with subscribed(server, PROMOTIONS, {"after": position}) as ws:
        message = (await next_data(ws))["promotions"]
    assert message == {"position": promoted["position"], "toLevelKey": "pm"}


async def acknowledged(ws: ClientConnection, protocol: str) -> None:
    """Wait for the server to answer a message sent after the subscribe."""
    if protocol == TRANSPORT_WS:
        await send(ws, {"type": "ping"})
        while (await receive(ws))["type"] != "pong":
            pass
        return
    await send(ws, {"type": "start", "id": "probe", "payload": {"query": "{ logPosition }"}})
    while (await receive(ws)).get("id") != "probe":
        pass


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_from_now_on_includes_a_promotion_committed_right_after_the_subscribe_is_read(
    server: LiveServer, client: httpx.AsyncClient, protocol: str
) -> None:
    person = (await hire(client, level="apm", prior_years=20))["personId"]
    async with subscribed(server, PROMOTIONS, protocol=protocol) as ws:
        await acknowledged(ws, protocol)
        promoted = await promote(client, person, "pm", TODAY - timedelta(days=30))
        message = (await next_data(ws))["promotions"]
        assert await nothing_more(ws)
    assert message == {"position": promoted["position"], "toLevelKey": "pm"}


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_subscription_is_closed_with_4401_when_its_token_expires(
    server: LiveServer, protocol: str
) -> None:
    # Accepted now (within the leeway), expired in about two seconds.
    token = mint(Role.HR, "hr-1", ttl=timedelta(seconds=2) - LEEWAY)
    async with subscribed(server, PROMOTIONS, token=token, protocol=protocol) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                while True:
                    await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == TOKEN_EXPIRED_CLOSE_CODE
    assert closed.value.rcvd.reason == "Token expired"


async def test_a_connection_with_a_long_lived_token_stays_open(server: LiveServer) -> None:
    async with subscribed(server, PROMOTIONS) as ws:
        assert await nothing_more(ws, within=1.0)
        assert ws.state.name == "OPEN"
