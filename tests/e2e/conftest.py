"""End-to-end fixtures: the real app under uvicorn on a free localhost port.

* ``make_settings(**overrides)``: test ``Settings`` (no ``.env``, the test token secret).
* ``start_server(settings=None, services=None, bootstrap=None, schema=None, database_url=None)``:
  starts an app in a background thread (its own event loop) and returns a ``LiveServer``;
  every server started this way stops when the test ends.
* ``live_server``: one default server (no services: the ladder comes from the shipped files)
  shared by the whole session.
* ``client``: an ``httpx.AsyncClient`` on ``live_server``.
* ``token(role, subject)``: a signed bearer token for the test secret.

Use ``LiveServer.ws_connect(subprotocol, ...)`` for WebSocket tests.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import httpx
import pytest
import uvicorn
from strawberry.schema import BaseSchema
from websockets.asyncio.client import ClientConnection, connect

from api.app import Bootstrap, create_app
from api.auth import Role, mint_token
from api.context import AppServices
from api.settings import Settings

TEST_SECRET = "e2e-test-secret-that-is-long-enough-for-hs256"
STARTUP_TIMEOUT = 10.0


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"token_secret": TEST_SECRET, "env": "development"}
    values.update(overrides)
    return Settings(_env_file=None, **values)


def without_cost(body: dict[str, Any]) -> dict[str, Any]:
    """A response body without ``extensions.cost`` (reported on every query that costs
    anything), for tests that compare whole bodies."""
    extensions = dict(body.get("extensions") or {})
    extensions.pop("cost", None)
    rest = {k: v for k, v in body.items() if k != "extensions"}
    return {**rest, **({"extensions": extensions} if extensions else {})}


def mint(role: Role | str, subject: str = "person-1", ttl: timedelta = timedelta(hours=1)) -> str:
    return mint_token(TEST_SECRET, role, subject, ttl)


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    settings: Settings

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/graphql"

    @property
    def ws_url(self) -> str:
        return self.graphql_url.replace("http://", "ws://", 1)

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=10.0, **kwargs)

    def ws_connect(
        self,
        subprotocol: str = "graphql-transport-ws",
        *,
        origin: str | None = None,
    ) -> connect:
        return connect(
            self.ws_url,
            subprotocols=[subprotocol],  # type: ignore[list-item]
            origin=origin,  # type: ignore[arg-type]
            open_timeout=5,
            close_timeout=2,
        )


@contextmanager
def serve(app: Any, settings: Settings, *, send_buffer: int | None = None) -> Iterator[LiveServer]:
    """Run ``app`` under uvicorn on ``127.0.0.1:<free port>`` until the block exits.

    ``send_buffer`` fixes the kernel send buffer of accepted connections (they inherit the
    listening socket's), for tests that need a socket to stop draining soon."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_config=None,
        access_log=False,
        ws="websockets-sansio",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the test server did not start: {failures!r}")
        time.sleep(0.01)
    try:
        yield LiveServer(base_url=f"http://127.0.0.1:{port}", settings=settings)
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT)
        sock.close()


class StartServer(Protocol):
    def __call__(
        self,
        *,
        settings: Settings | None = None,
        services: AppServices | None = None,
        bootstrap: Bootstrap | None = None,
        schema: BaseSchema | None = None,
        database_url: str | None = None,
    ) -> LiveServer: ...


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """Start app servers for this test; all of them stop when it ends."""
    stack: list[Any] = []

    def start(
        *,
        settings: Settings | None = None,
        services: AppServices | None = None,
        bootstrap: Bootstrap | None = None,
        schema: BaseSchema | None = None,
        database_url: str | None = None,
    ) -> LiveServer:
        if settings is None:
            settings = make_settings(**({"database_url": database_url} if database_url else {}))
        app = create_app(settings, services, bootstrap=bootstrap, schema=schema)
        running = serve(app, settings)
        server = running.__enter__()
        stack.append(running)
        return server

    yield start
    while stack:
        stack.pop().__exit__(None, None, None)


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    settings = make_settings()
    with serve(create_app(settings), settings) as server:
        yield server


@pytest.fixture
async def client(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with live_server.client() as http:
        yield http


@pytest.fixture
def token() -> Callable[..., str]:
    return mint


WsConnect = Callable[..., AbstractAsyncContextManager[ClientConnection]]


@pytest.fixture(scope="session")
def probe_server() -> Iterator[LiveServer]:
    """A server whose schema also has the probe fields of ``tests.e2e.probes``."""
    from api.schema import build_schema
    from tests.e2e.probes import ProbeMutation, ProbeQuery, ProbeSubscription

    settings = make_settings(
        cors_origins=["https://app.example.com"], ws_allowed_origins=["https://app.example.com"]
    )
    schema = build_schema(
        settings,
        extra_queries=[ProbeQuery],
        extra_mutations=[ProbeMutation],
        extra_subscriptions=[ProbeSubscription],
    )
    with serve(create_app(settings, schema=schema), settings) as server:
        yield server
