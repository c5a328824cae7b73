"""Trusted documents over real HTTP and WebSocket: by id, by registered text, and refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from api.documents import TrustedDocuments, document_id
from tests.e2e.conftest import LiveServer, StartServer, make_settings, without_cost

LADDER = 'query Ladder { ladder(track: "product") { name } }'
OTHER = "{ viewer { role } }"
GRAPHQL_RESPONSE = {"accept": "application/graphql-response+json"}


def registry(tmp_path: Path, *documents: str) -> Path:
    path = tmp_path / "documents.json"
    trusted = TrustedDocuments()
    for text in documents:
        trusted.add(text)
    trusted.save(path)
    return path


@pytest.fixture
def trusted_only(start_server: StartServer, tmp_path: Path) -> LiveServer:
    path = registry(tmp_path, LADDER)
    return start_server(settings=make_settings(documents_file=str(path), trusted_documents=True))


async def post(server: LiveServer, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with server.client() as client:
        response = await client.post("/graphql", json=body, headers=GRAPHQL_RESPONSE)
    return response.status_code, without_cost(response.json())


def code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


async def test_a_registered_document_runs_by_id_or_by_text(trusted_only: LiveServer) -> None:
    expected = {"data": {"ladder": {"name": "Product Management"}}}
    assert await post(trusted_only, {"documentId": document_id(LADDER)}) == (200, expected)
    assert await post(trusted_only, {"query": LADDER}) == (200, expected)
    async with trusted_only.client() as client:
        response = await client.get("/graphql", params={"documentId": document_id(LADDER)})
    assert without_cost(response.json()) == expected


async def test_an_unregistered_document_is_refused_with_a_clear_code(
    trusted_only: LiveServer,
) -> None:
    status, body = await post(trusted_only, {"query": OTHER})
    assert status == 400
    assert "data" not in body
    assert code(body) == "DOCUMENT_NOT_TRUSTED"


async def test_an_unknown_document_id_is_refused(trusted_only: LiveServer) -> None:
    status, body = await post(trusted_only, {"documentId": document_id(OTHER)})
    assert status == 400
    assert code(body) == "PERSISTED_DOCUMENT_NOT_FOUND"
    both = await post(trusted_only, {"documentId": document_id(LADDER), "query": LADDER})
    assert both[0] == 400


async def test_an_unregistered_subscription_over_websocket_is_refused(
    trusted_only: LiveServer,
) -> None:
    async with trusted_only.ws_connect() as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        subscribe = {"query": "subscription { promotions { position } }"}
        await ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": subscribe}))
        message = json.loads(await ws.recv())
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"


async def test_with_the_option_off_any_document_runs_and_ids_still_work(
    start_server: StartServer, tmp_path: Path
) -> None:
    path = registry(tmp_path, LADDER)
    server = start_server(settings=make_settings(documents_file=str(path)))
    assert (await post(server, {"query": OTHER}))[1] == {"data": {"viewer": None}}
    assert (await post(server, {"documentId": document_id(LADDER)}))[0] == 200
