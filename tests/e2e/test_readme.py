"""The README's GraphQL documents, run in order against a real server, stay true."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from api.auth import Role
from tests.e2e.conftest import mint
from tests.e2e.live_api import HR, gql, runtime_server

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"```graphql\n(.*?)```", re.DOTALL)
CALLER = re.compile(r"^# as (\w+) (\S+)\n")
"""A document that starts with ``# as <role> <subject>`` runs with that caller's token."""


def documents() -> list[str]:
    return BLOCK.findall(README.read_text())


def operation(doc: str) -> str:
    """The document without its leading comment lines."""
    lines = doc.splitlines()
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "\n".join(lines)


def token_for(doc: str) -> str:
    found = CALLER.match(doc)
    return HR if found is None else mint(Role(found[1]), found[2])


def payload_errors(data: dict[str, Any]) -> list[Any]:
    return [
        e for value in data.values() if isinstance(value, dict) for e in value.get("errors", [])
    ]


def test_the_readme_has_queries_mutations_and_a_subscription() -> None:
    kinds = {operation(doc).split()[0] for doc in documents()}
    assert kinds == {"query", "mutation", "subscription"}


async def test_every_readme_document_runs_as_written(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'readme.db'}"
    with runtime_server(url) as server:
        async with server.client() as client:
            for doc in documents():
                if operation(doc).startswith("subscription"):
                    continue
                body = await gql(client, doc, token=token_for(doc))
                assert "errors" not in body, (doc, body)
                errors = payload_errors(body["data"])
                if "SkipALevel" in doc:
                    assert [(e["code"], e["field"]) for e in errors] == [
                        ("LEVEL_SKIPPED", "toLevel")
                    ]
                else:
                    assert errors == [], (doc, errors)
        subscription = next(d for d in documents() if d.startswith("subscription"))
        async with server.ws_connect("graphql-transport-ws") as ws:
            await ws.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"authorization": f"Bearer {HR}"}}
                )
            )
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": subscription}})
            )
            message = json.loads(await ws.recv())
    assert message["type"] == "next", message
    promotion = message["payload"]["data"]["promotions"]
    assert promotion["toLevel"]["title"] == "Product Manager"
    assert promotion["position"] > 0


@pytest.mark.parametrize("doc", documents(), ids=lambda d: operation(d).split("{")[0].strip())
def test_readme_documents_parse(doc: str) -> None:
    from graphql import parse

    parse(doc)
