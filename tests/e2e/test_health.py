"""``/healthz``, ``/readyz`` and the lifespan bootstrap hook."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from api.app import Bootstrap, create_app
from api.services import AppServices
from api.settings import Settings
from events.bootstrap import bootstrap
from tests.e2e.conftest import LiveServer, StartServer, make_settings, serve


@dataclass
class FixedProbes(AppServices):
    """Real services (on a fresh SQLite database) whose readiness probes answer as told."""

    answer: bool | None = True  # None: the check raises
    dead_letters: dict[str, int] = field(default_factory=dict)
    closed: bool = False

    async def ready(self) -> bool:
        if self.answer is None:
            raise ConnectionError("database unreachable at 10.0.0.5")
        return self.answer

    async def degraded(self) -> dict[str, int]:
        return self.dead_letters

    async def close(self) -> None:
        self.closed = True
        await super().close()


def services(built: list[AppServices] | None = None, **given: Any) -> Bootstrap:
    """A bootstrap of ``FixedProbes(**given)`` (or, with ``log_problem``, of the real
    services), built in the server's own event loop."""

    @asynccontextmanager
    async def boot(settings: Settings) -> AsyncIterator[AppServices]:
        runtime = await bootstrap(settings.database_url, listen=False)
        kind = AppServices if "log_problem" in given else FixedProbes
        made = kind(runtime, **given)
        if built is not None:
            built.append(made)
        try:
            yield made
        finally:
            await made.close()

    return boot


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'health.db'}"


async def test_healthz_answers_while_the_process_lives(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_without_services(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        response = await client.get("/readyz")
    assert response.status_code == 200


@pytest.mark.parametrize(("answer", "status"), [(True, 200), (False, 503), (None, 503)])
async def test_readyz_asks_the_services(
    start_server: StartServer, database_url: str, answer: bool | None, status: int
) -> None:
    server = start_server(bootstrap=services(answer=answer), database_url=database_url)
    async with server.client() as client:
        response = await client.get("/readyz")
    assert response.status_code == status
    assert "10.0.0.5" not in response.text


async def test_readyz_names_the_read_models_that_skipped_events(
    start_server: StartServer, database_url: str
) -> None:
    boot = services(dead_letters={"people": 2})
    server = start_server(bootstrap=boot, database_url=database_url)
    async with server.client() as client:
        response = await client.get("/readyz")
    assert response.status_code == 200  # the service still answers
    assert response.json() == {
        "status": "degraded",
        "degraded": [{"projection": "people", "deadLetters": 2}],
    }


TAMPERED = "the first 2 events no longer match the last checkpoint"


async def test_readyz_names_a_log_that_does_not_hold_against_its_checkpoint(
    start_server: StartServer, database_url: str
) -> None:
    server = start_server(bootstrap=services(log_problem=TAMPERED), database_url=database_url)
    async with server.client() as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "tampered", "reason": TAMPERED}


async def test_the_lifespan_builds_services_at_startup_and_closes_them_at_shutdown(
    database_url: str,
) -> None:
    built: list[AppServices] = []
    settings = make_settings(database_url=database_url)
    with serve(create_app(settings, bootstrap=services(built)), settings) as server:
        async with server.client() as client:
            assert (await client.get("/readyz")).status_code == 200
        assert len(built) == 1
        assert isinstance(built[0], FixedProbes)
        assert not built[0].closed
    assert built[0].closed


def test_a_bootstrap_that_fails_stops_the_server_from_starting(start_server: StartServer) -> None:
    @asynccontextmanager
    async def failing(settings: Settings) -> AsyncIterator[AppServices]:
        raise ConnectionError("no database")
        yield  # pragma: no cover

    with pytest.raises(RuntimeError, match="did not start"):
        start_server(bootstrap=failing)
