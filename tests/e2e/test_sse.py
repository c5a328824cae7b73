"""Subscriptions over server-sent events (``graphql-sse``, distinct connections mode) with a
real HTTP client: replay then live with no gap, resume, rights per event, on both backends."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.auth import Role
from api.scopes import parse_id_text
from tests.e2e.conftest import LiveServer, mint
from tests.e2e.live_api import HR, TODAY, backend_url, hire, log_position, promote, runtime_server
from tests.e2e.multiprocess_support import REPO_ROOT
from tests.e2e.probes import ProbeLog

LADDER = ["apm", "pm", "senior_pm", "group_pm", "director", "vp_product"]
PROMOTIONS = """
subscription Promotions($after: Int) {
  promotions(afterPosition: $after) { position personId toLevelKey toLevel { title } }
}
"""


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with (
        backend_url(request.param, str(tmp_path_factory.mktemp("sse"))) as url,
        runtime_server(url) as live,
    ):
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


class EventStream:
    """The ``event:``/``data:`` messages of one ``text/event-stream`` response.

    A task reads the response into a queue, so waiting for a message with a timeout never
    cancels a read (which would close the connection).
    """

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        event, data = "message", ""
        async for line in self.response.aiter_lines():
            if line.startswith(":"):  # a heartbeat comment
                continue
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data += line.removeprefix("data:").strip()
            elif line == "":
                await self.queue.put((event, json.loads(data) if data else None))
                event, data = "message", ""

    async def next_event(self, timeout: float = 10.0) -> tuple[str, Any]:
        return await asyncio.wait_for(self.queue.get(), timeout)

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader

    async def promotions(self, count: int) -> list[dict[str, Any]]:
        received = []
        for _ in range(count):
            event, data = await self.next_event()
            assert event == "next", (event, data)
            assert "errors" not in data, data
            received.append(data["data"]["promotions"])
        return received

    async def nothing_more(self, within: float = 0.5) -> bool:
        try:
            await self.next_event(within)
        except TimeoutError:
            return True
        return False


@asynccontextmanager
async def sse(
    server: LiveServer, query: str, variables: dict[str, Any], *, token: str | None = HR
) -> AsyncIterator[EventStream]:
    headers = {"accept": "text/event-stream"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    async with (
        server.client() as http,
        http.stream(
            "POST", "/graphql", json={"query": query, "variables": variables}, headers=headers
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = EventStream(response)
        try:
            yield stream
        finally:
            await stream.close()


async def climb(client: httpx.AsyncClient, person_id: str, steps: int, start: int = 0) -> None:
    for step in range(steps):
        on = TODAY - timedelta(days=200 - 10 * (start + step))
        await promote(client, person_id, LADDER[start + step + 1], on)


async def test_promotions_replay_then_go_live_over_server_sent_events(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    start = await log_position(server.settings.database_url)
    person = (await hire(client, level="apm", prior_years=20))["personId"]
    await climb(client, person, 2)
    async with sse(server, PROMOTIONS, {"after": start}) as stream:
        replayed = await stream.promotions(2)
        writer = asyncio.create_task(climb(client, person, 2, start=2))
        live = await stream.promotions(2)
        await writer
        assert await stream.nothing_more()
    received = replayed + live
    assert [m["toLevelKey"] for m in received] == LADDER[1:5]
    positions = [m["position"] for m in received]
    assert positions == sorted(set(positions))
    assert received[0]["toLevel"] == {"title": "Product Manager"}


async def test_a_dropped_event_stream_resumes_after_the_last_position(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    start = await log_position(server.settings.database_url)
    person = (await hire(client, level="apm", prior_years=20))["personId"]
    await climb(client, person, 1)
    async with sse(server, PROMOTIONS, {"after": start}) as stream:
        [first] = await stream.promotions(1)
    await climb(client, person, 2, start=1)  # while nobody listens
    async with sse(server, PROMOTIONS, {"after": first["position"]}) as stream:
        missed = await stream.promotions(2)
        assert await stream.nothing_more()
    assert [m["toLevelKey"] for m in [first, *missed]] == LADDER[1:4]


async def test_each_promotion_is_checked_against_the_subscriber_rights(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    start = await log_position(server.settings.database_url)
    me = (await hire(client, level="apm", prior_years=20))["personId"]
    stranger = (await hire(client, level="apm", prior_years=20))["personId"]
    await climb(client, stranger, 1)
    await climb(client, me, 1)
    token = mint(Role.EMPLOYEE, parse_id_text(me))
    async with sse(server, PROMOTIONS, {"after": start}, token=token) as stream:
        [mine] = await stream.promotions(1)
        assert await stream.nothing_more()
    assert mine["personId"] == me


async def test_without_a_token_the_stream_reports_unauthenticated_and_completes(
    server: LiveServer,
) -> None:
    async with sse(server, PROMOTIONS, {"after": 0}, token=None) as stream:
        event, data = await stream.next_event()
        assert event == "next"
        assert data["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert (await stream.next_event())[0] == "complete"


async def test_an_invalid_document_is_reported_inside_the_stream(server: LiveServer) -> None:
    async with sse(server, "subscription { promotions { nope } }", {}) as stream:
        event, data = await stream.next_event()
        assert event == "next"
        assert "data" not in data
        assert data["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert (await stream.next_event())[0] == "complete"


async def test_a_bad_token_is_refused_before_the_stream_opens(server: LiveServer) -> None:
    async with server.client() as http:
        response = await http.post(
            "/graphql",
            json={"query": PROMOTIONS},
            headers={"accept": "text/event-stream", "authorization": "Bearer not-a-token"},
        )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_open_event_streams_are_counted_in_the_metrics(server: LiveServer) -> None:
    labels = 'ladder_subscriptions_open{subscription="promotions",transport="sse"}'

    async def gauge() -> str:
        async with server.client() as http:
            text = (await http.get("/metrics")).text
        return next((line.split()[-1] for line in text.splitlines() if line.startswith(labels)), "")

    async with sse(server, PROMOTIONS, {}) as stream:
        assert await stream.nothing_more(0.3)
        assert await gauge() == "1.0"
    for _ in range(50):
        if await gauge() == "0.0":
            return
        await asyncio.sleep(0.1)
    pytest.fail("a closed event stream is still counted as open")


async def test_the_readme_curl_example_streams_promotions(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"curl -N .*?text/event-stream.*?-d '([^']+)'", readme, re.DOTALL)
    assert example is not None
    body = json.loads(example.group(1))
    person = (await hire(client, level="apm", prior_years=20))["personId"]
    await climb(client, person, 1)
    async with sse(server, body["query"], {}) as stream:
        [first] = await stream.promotions(1)
    assert set(first) == {"position", "personId", "toLevel"}


async def test_a_mutation_over_an_event_stream_get_never_runs(probe_server: LiveServer) -> None:
    before = len(ProbeLog.calls)
    async with (
        probe_server.client() as http,
        http.stream(
            "GET",
            "/graphql",
            params={"query": 'mutation { recordProbe(note: "sse get") }'},
            headers={"accept": "text/event-stream"},
        ) as response,
    ):
        body = (await response.aread()).decode()
    assert len(ProbeLog.calls) == before
    assert "sse get" not in body
    assert '"errors"' in body
