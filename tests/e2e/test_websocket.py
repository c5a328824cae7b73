"""Subscriptions over WebSocket: both subprotocols, tokens in connection_init, Origin checks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from api.auth import Role
from tests.e2e.conftest import LiveServer, mint

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


async def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def receive(ws: ClientConnection) -> dict[str, Any]:
    message = json.loads(await ws.recv(decode=True))
    assert isinstance(message, dict)
    return message


async def init(ws: ClientConnection, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    await send(ws, {"type": "connection_init", "payload": payload or {}})
    return await receive(ws)


async def subscribe(ws: ClientConnection, query: str, op_id: str = "1") -> list[dict[str, Any]]:
    """Run one operation over graphql-transport-ws and collect its messages until it ends."""
    await send(ws, {"type": "subscribe", "id": op_id, "payload": {"query": query}})
    messages = []
    while True:
        message = await receive(ws)
        messages.append(message)
        if message["type"] in ("complete", "error"):
            return messages


@pytest.mark.parametrize(
    "payload",
    [
        {"authorization": f"Bearer {mint(Role.HR, 'person-7')}"},
        {"token": mint(Role.HR, "person-7")},
    ],
    ids=["authorization", "token"],
)
async def test_the_token_in_connection_init_identifies_the_subscriber(
    probe_server: LiveServer, payload: dict[str, str]
) -> None:
    async with probe_server.ws_connect(TRANSPORT_WS) as ws:
        assert ws.subprotocol == TRANSPORT_WS
        assert await init(ws, payload) == {"type": "connection_ack"}
        messages = await subscribe(ws, "subscription { whoami }")
    assert messages == [
        {"id": "1", "type": "next", "payload": {"data": {"whoami": "hr:person-7"}}},
        {"id": "1", "type": "complete"},
    ]


async def test_a_subscriber_without_a_token_is_anonymous(probe_server: LiveServer) -> None:
    async with probe_server.ws_connect(TRANSPORT_WS) as ws:
        await init(ws)
        messages = await subscribe(ws, "subscription { whoami }")
    assert messages[0]["payload"] == {"data": {"whoami": "anonymous"}}


async def test_a_subscription_streams_every_event(probe_server: LiveServer) -> None:
    async with probe_server.ws_connect(TRANSPORT_WS) as ws:
        await init(ws)
        messages = await subscribe(ws, "subscription { ticks(count: 3) }")
    assert [m["payload"]["data"]["ticks"] for m in messages if m["type"] == "next"] == [0, 1, 2]


async def test_a_bad_token_closes_the_connection_with_4403(probe_server: LiveServer) -> None:
    async with probe_server.ws_connect(TRANSPORT_WS) as ws:
        await send(ws, {"type": "connection_init", "payload": {"token": "forged"}})
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_the_legacy_graphql_ws_protocol_works(probe_server: LiveServer) -> None:
    async with probe_server.ws_connect(LEGACY_WS) as ws:
        assert ws.subprotocol == LEGACY_WS
        assert (await init(ws, {"token": mint(Role.AUDITOR, "a-1")}))["type"] == "connection_ack"
        await send(
            ws, {"type": "start", "id": "1", "payload": {"query": "subscription { whoami }"}}
        )
        data = await receive(ws)
        complete = await receive(ws)
    assert data == {"type": "data", "id": "1", "payload": {"data": {"whoami": "auditor:a-1"}}}
    assert complete == {"type": "complete", "id": "1"}


async def test_the_legacy_protocol_rejects_a_bad_token(probe_server: LiveServer) -> None:
    async with probe_server.ws_connect(LEGACY_WS) as ws:
        rejection = await init(ws, {"token": "forged"})
        with pytest.raises(ConnectionClosed):
            await ws.recv()
    assert rejection["type"] == "connection_error"
    assert rejection["payload"]["code"] == "UNAUTHENTICATED"


async def test_a_page_on_a_foreign_origin_cannot_open_a_socket(probe_server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with probe_server.ws_connect(TRANSPORT_WS, origin="https://evil.example"):
            pass  # pragma: no cover
    assert refused.value.response.status_code == 403


async def test_a_page_on_an_allowed_origin_can_open_a_socket(probe_server: LiveServer) -> None:
    async with probe_server.ws_connect(TRANSPORT_WS, origin="https://app.example.com") as ws:
        assert await init(ws) == {"type": "connection_ack"}


async def test_an_error_inside_a_subscription_is_masked(probe_server: LiveServer) -> None:
    async with probe_server.ws_connect(TRANSPORT_WS) as ws:
        await init(ws)
        messages = await subscribe(ws, "subscription { explode }")
    text = json.dumps(messages)
    assert "secret internals" not in text
    errors = [e for m in messages for e in (m.get("payload") or {}).get("errors", [])]
    errors += [e for m in messages if m["type"] == "error" for e in m["payload"]]
    assert errors
    assert all(e["extensions"]["code"] == "INTERNAL" for e in errors)


async def test_the_limits_apply_over_websocket(probe_server: LiveServer) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(16))
    async with probe_server.ws_connect(TRANSPORT_WS) as ws:
        await init(ws)
        messages = await subscribe(ws, f"{{ {aliases} }}")
    assert messages[-1]["type"] == "error"
    assert [e["extensions"]["code"] for e in messages[-1]["payload"]] == ["ALIAS_LIMIT_EXCEEDED"]


async def test_a_websocket_message_over_the_body_cap_closes_the_socket(
    probe_server: LiveServer,
) -> None:
    padding = " " * probe_server.settings.max_body_bytes
    async with probe_server.ws_connect(TRANSPORT_WS) as ws:
        await init(ws)
        await ws.send(
            json.dumps({"type": "subscribe", "id": "1", "payload": {"query": "{ a }" + padding}})
        )
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
