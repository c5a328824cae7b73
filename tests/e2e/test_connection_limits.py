"""Connections cannot hold the server: slow requests time out, WebSockets and
subscriptions are capped per process, per token subject and per connection."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from api.app import create_app
from api.auth import Role
from api.services import runtime_services
from api.settings import Settings
from tests.e2e.conftest import TEST_SECRET, LiveServer, make_settings, mint, serve
from tests.e2e.live_api import TRANSPORT_WS, receive, send

SUBSCRIPTION = "subscription { promotions { position } }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """``ladder serve`` (the real command, with its HTTP protocol) and 1-second timeouts."""
    if shutil.which("ladder") is None:
        pytest.fail("the ladder command is not installed (pip install -e .)")
    port = _free_port()
    db = tmp_path_factory.mktemp("served") / "limits.db"
    env = {
        **os.environ,
        "LADDER_TOKEN_SECRET": TEST_SECRET,
        "LADDER_HEADER_TIMEOUT": "1",
        "LADDER_BODY_TIMEOUT": "1",
        "LADDER_WS_PING_INTERVAL": "0.5",
        "LADDER_WS_PING_TIMEOUT": "5",
    }
    proc = subprocess.Popen(
        ["ladder", "serve", "--port", str(port), "--database-url", f"sqlite:///{db}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("ladder serve did not start")
            time.sleep(0.2)
        yield port
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while sock.recv(1024):
            pass
        return True
    except (TimeoutError, ConnectionResetError):
        return False


def test_a_request_whose_headers_trickle_in_is_closed(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served)) as sock:
        sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\n")  # and then nothing more
        assert _closed_within(sock, 5)


def test_a_connection_that_sends_nothing_is_closed(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served)) as sock:
        assert _closed_within(sock, 5)


def test_a_body_that_never_arrives_is_closed(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served)) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
            b"content-length: 100\r\n\r\n{"
        )
        assert _closed_within(sock, 5)


async def test_normal_requests_and_websockets_outlive_the_timeouts(served: int) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{served}") as client:
        first = await client.post("/graphql", json={"query": "{ __typename }"})
        second = await client.post("/graphql", json={"query": "{ __typename }"})
    assert first.status_code == second.status_code == 200
    async with connect(
        f"ws://127.0.0.1:{served}/graphql",
        subprotocols=[TRANSPORT_WS],  # type: ignore[list-item]
    ) as ws:
        await send(ws, {"type": "connection_init", "payload": {"token": mint(Role.HR)}})
        assert (await receive(ws))["type"] == "connection_ack"
        await ws.ping()
        await asyncio.sleep(2.5)  # past both timeouts; the server's pings keep it alive
        await send(ws, {"type": "ping"})
        assert (await receive(ws))["type"] == "pong"


async def test_subscriptions_past_the_per_connection_cap_are_refused(tmp_path: Path) -> None:
    settings = make_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'caps.db'}",
        max_subscriptions_per_connection=2,
    )
    with runtime_server_with(settings) as server:
        async with server.ws_connect() as ws:
            await send(ws, {"type": "connection_init", "payload": {"token": mint(Role.HR)}})
            assert (await receive(ws))["type"] == "connection_ack"
            for op in ("1", "2", "3"):
                await send(ws, {"type": "subscribe", "id": op, "payload": {"query": SUBSCRIPTION}})
            refused = await receive(ws)
            assert refused["type"] == "error" and refused["id"] == "3"
            assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
            await send(ws, {"type": "complete", "id": "1"})
            await send(ws, {"type": "subscribe", "id": "4", "payload": {"query": SUBSCRIPTION}})
            await send(ws, {"type": "ping"})
            assert (await receive(ws))["type"] == "pong"  # "4" was accepted: no error came


async def test_websockets_past_the_per_subject_cap_are_refused(tmp_path: Path) -> None:
    settings = make_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'subject.db'}",
        max_ws_connections_per_subject=1,
    )
    with runtime_server_with(settings) as server:
        async with server.ws_connect() as first:
            await send(first, {"type": "connection_init", "payload": {"token": mint(Role.HR)}})
            assert (await receive(first))["type"] == "connection_ack"
            async with server.ws_connect() as second:
                await send(second, {"type": "connection_init", "payload": {"token": mint(Role.HR)}})
                with pytest.raises(ConnectionClosed) as closed:
                    await receive(second)
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code == 4403  # graphql-transport-ws: Forbidden
            other = mint(Role.HR, "someone-else")  # another subject still gets in
            async with server.ws_connect() as third:
                await send(third, {"type": "connection_init", "payload": {"token": other}})
                assert (await receive(third))["type"] == "connection_ack"
        # the first closed: its subject may connect again
        async with server.ws_connect() as again:
            await send(again, {"type": "connection_init", "payload": {"token": mint(Role.HR)}})
            assert (await receive(again))["type"] == "connection_ack"


def runtime_server_with(settings: Settings) -> AbstractContextManager[LiveServer]:
    return serve(create_app(settings, bootstrap=runtime_services), settings)
