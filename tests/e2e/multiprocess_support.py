"""Real server processes for the multi-process suite: start, wait, talk to, stop.

Each ``ServerProcess`` is ``python -m uvicorn --factory api.app:serve_app`` in its own
interpreter, configured only through the environment (``LADDER_DATABASE_URL``,
``LADDER_TOKEN_SECRET``), as an operator would run it. Its output goes to a file, so a
chatty server never blocks on a full pipe, and the file's tail is shown when it fails.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx
from websockets.asyncio.client import connect

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 90.0  # a loaded CI machine takes a while to import the API twice at once
STOP_TIMEOUT = 10.0

T = TypeVar("T")


def free_port() -> int:
    """A TCP port nobody listens on right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """One ``uvicorn --factory api.app:serve_app`` process on ``127.0.0.1:port``."""

    name: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]
    _log: IO[bytes] = field(repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=15.0)

    def ws_connect(self, subprotocol: str = "graphql-transport-ws") -> connect:
        return connect(
            self.ws_url,
            subprotocols=[subprotocol],  # type: ignore[list-item]
            open_timeout=10,
            close_timeout=2,
        )

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace")
        return f"--- {self.name} ({self.log_path}) ---\n" + "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down gracefully), then SIGKILL; always reaped and closed."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(STOP_TIMEOUT)
        finally:
            self._log.close()


def server_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "api.app:serve_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--ws",
        "websockets-sansio",
        "--timeout-graceful-shutdown",
        "2",
    ]


def server_env(database_url: str, token_secret: str) -> dict[str, str]:
    """The parent's environment with the settings a server reads, and nothing stale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LADDER_")}
    env.pop("DATABASE_URL", None)
    env.update(
        LADDER_DATABASE_URL=database_url,
        LADDER_TOKEN_SECRET=token_secret,
        LADDER_ENV="development",
        PYTHONUNBUFFERED="1",
    )
    if "LADDER_MASTER_KEY" in os.environ:  # the key personal data is sealed with
        env["LADDER_MASTER_KEY"] = os.environ["LADDER_MASTER_KEY"]
    return env


@contextmanager
def running_servers(
    names: Sequence[str], database_url: str, token_secret: str, log_dir: Path
) -> Iterator[list[ServerProcess]]:
    """Start one server per name, all at once; every one is stopped when the block exits."""
    env = server_env(database_url, token_secret)
    with ExitStack() as stack:
        servers: list[ServerProcess] = []
        for name in names:
            port = free_port()
            log_path = log_dir / f"{name}.log"
            log = log_path.open("wb")
            try:
                process = subprocess.Popen(
                    server_command(port),
                    cwd=REPO_ROOT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            except BaseException:
                log.close()
                raise
            server = ServerProcess(name, port, log_path, process, log)
            stack.callback(server.stop)
            servers.append(server)
        yield servers


async def wait_ready(servers: Sequence[ServerProcess], timeout: float = READY_TIMEOUT) -> float:
    """Wait until every server answers ``/readyz`` with 200; return the seconds it took."""
    started = time.monotonic()

    async def one(server: ServerProcess) -> None:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=2.0) as http:
            while True:
                if server.process.poll() is not None:
                    raise AssertionError(
                        f"{server.name} exited with {server.process.returncode} before it was "
                        f"ready\n{server.log_tail()}"
                    )
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() - started > timeout:
                    raise AssertionError(
                        f"{server.name} not ready after {timeout:.0f}s\n{server.log_tail()}"
                    )
                await asyncio.sleep(0.1)

    await asyncio.gather(*(one(s) for s in servers))
    return time.monotonic() - started


async def eventually(
    probe: Callable[[], Awaitable[T]],
    accept: Callable[[T], bool],
    *,
    within: float = 5.0,
    every: float = 0.05,
) -> tuple[T, float]:
    """Call ``probe`` until ``accept`` takes its answer; (answer, seconds) or AssertionError."""
    started = time.monotonic()
    while True:
        answer = await probe()
        elapsed = time.monotonic() - started
        if accept(answer):
            return answer, elapsed
        if elapsed > within:
            raise AssertionError(f"not within {within}s; last answer: {answer!r}")
        await asyncio.sleep(every)


def data_of(body: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` of a GraphQL response that has no top-level errors."""
    assert "errors" not in body, body
    data = body["data"]
    assert isinstance(data, dict)
    return data
