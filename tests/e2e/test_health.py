"""``/healthz``, ``/readyz`` and the lifespan bootstrap hook."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from api.app import create_app
from api.context import AppServices
from api.settings import Settings
from tests.e2e.conftest import LiveServer, StartServer, make_settings, serve


@dataclass
class FakeServices:
    answer: bool | None  # None: the check raises
    closed: bool = False
    dead_letters: dict[str, int] = field(default_factory=dict)

    async def ready(self) -> bool:
        if self.answer is None:
            raise ConnectionError("database unreachable at 10.0.0.5")
        return self.answer

    async def degraded(self) -> dict[str, int]:
        return self.dead_letters


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
    start_server: StartServer, answer: bool | None, status: int
) -> None:
    server = start_server(services=FakeServices(answer))
    async with server.client() as client:
        response = await client.get("/readyz")
    assert response.status_code == status
    assert "10.0.0.5" not in response.text


async def test_readyz_names_the_read_models_that_skipped_events(start_server: StartServer) -> None:
    server = start_server(services=FakeServices(True, dead_letters={"people": 2}))
    async with server.client() as client:
        response = await client.get("/readyz")
    assert response.status_code == 200  # the service still answers
    assert response.json() == {
        "status": "degraded",
        "degraded": [{"projection": "people", "deadLetters": 2}],
    }


@dataclass
class TamperedServices:
    log_problem: str = "the first 2 events no longer match the last checkpoint"

    async def ready(self) -> bool:
        return False

    async def degraded(self) -> dict[str, int]:
        return {}


async def test_readyz_names_a_log_that_does_not_hold_against_its_checkpoint(
    start_server: StartServer,
) -> None:
    server = start_server(services=TamperedServices())
    async with server.client() as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "tampered", "reason": TamperedServices.log_problem}


async def test_the_lifespan_builds_services_at_startup_and_closes_them_at_shutdown() -> None:
    built: list[FakeServices] = []

    @asynccontextmanager
    async def bootstrap(settings: Settings) -> AsyncIterator[AppServices]:
        services = FakeServices(True)
        built.append(services)
        try:
            yield services
        finally:
            services.closed = True

    settings = make_settings()
    with serve(create_app(settings, bootstrap=bootstrap), settings) as server:
        async with server.client() as client:
            assert (await client.get("/readyz")).status_code == 200
        assert len(built) == 1
        assert not built[0].closed
    assert built[0].closed


def test_a_bootstrap_that_fails_stops_the_server_from_starting(start_server: StartServer) -> None:
    @asynccontextmanager
    async def bootstrap(settings: Settings) -> AsyncIterator[AppServices]:
        raise ConnectionError("no database")
        yield FakeServices(True)  # pragma: no cover

    with pytest.raises(RuntimeError, match="did not start"):
        start_server(bootstrap=bootstrap)
