"""Only HR records career events: every career mutation against every role and without a
token. (The promotion workflow lets managers and named reviewers act too: its matrix is in
``test_promotion_cases.py``.)"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.auth import Role
from tests.e2e.conftest import LiveServer, mint
from tests.e2e.live_api import (
    INPUT_TYPES,
    TODAY,
    backend_url,
    gql,
    ladder_input,
    log_position,
    mutation_document,
    new_id,
    runtime_server,
)

PERSON = new_id()
OTHER = new_id()
DAY = (TODAY - timedelta(days=3)).isoformat()

INPUTS: dict[str, dict[str, Any]] = {
    "hirePerson": {
        "name": "N",
        "email": "n@example.com",
        "track": "product",
        "level": "pm",
        "hiredOn": DAY,
    },
    "recordPromotion": {
        "personId": PERSON,
        "toLevel": "senior_pm",
        "effectiveOn": DAY,
        "rationale": "x",
    },
    "recordDemotion": {"personId": PERSON, "toLevel": "apm", "effectiveOn": DAY, "reason": "x"},
    "recordLateralMove": {
        "personId": PERSON,
        "toTrack": "engineering",
        "toLevel": "engineer",
        "effectiveOn": DAY,
        "reason": "x",
    },
    "startMentorship": {"mentorId": OTHER, "menteeId": PERSON, "effectiveOn": DAY},
    "endMentorship": {
        "mentorshipId": new_id(),
        "personId": PERSON,
        "effectiveOn": DAY,
        "outcome": "x",
    },
    "startRotation": {
        "personId": PERSON,
        "hostTeam": "Growth",
        "developmentArea": "analytics",
        "effectiveOn": DAY,
        "plannedEndOn": TODAY.isoformat(),
    },
    "endRotation": {
        "rotationId": new_id(),
        "personId": PERSON,
        "effectiveOn": DAY,
        "outcome": "x",
    },
    "recordTraining": {"personId": PERSON, "program": "x", "effectiveOn": DAY},
    "recordDeparture": {"personId": PERSON, "effectiveOn": DAY, "reason": "x"},
    "rehirePerson": {"personId": PERSON, "effectiveOn": DAY, "track": "product", "level": "pm"},
    "changeManager": {"personId": PERSON, "managerId": OTHER, "effectiveOn": DAY},
    "correctEvent": {
        "personId": PERSON,
        "targetEventId": new_id(),
        "changes": {"rationale": "y"},
        "reason": "x",
    },
    "rescindEvent": {"personId": PERSON, "targetEventId": new_id(), "reason": "x"},
    "publishLadder": ladder_input("authz", "Authz"),
    "erasePersonalData": {"personId": PERSON, "reason": "SUBJECT_REQUEST"},
}

REFUSED = {
    "employee": (mint(Role.EMPLOYEE, PERSON), "FORBIDDEN"),
    "manager": (mint(Role.MANAGER, OTHER), "FORBIDDEN"),
    "auditor": (mint(Role.AUDITOR, "auditor-1"), "FORBIDDEN"),
    "no-token": (None, "UNAUTHENTICATED"),
}


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with backend_url("sqlite", str(tmp_path_factory.mktemp("authz"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


def test_the_matrix_covers_every_mutation() -> None:
    assert set(INPUTS) == set(INPUT_TYPES)


@pytest.mark.parametrize("role", list(REFUSED))
@pytest.mark.parametrize("name", list(INPUTS))
async def test_only_hr_may_run_a_mutation(
    client: httpx.AsyncClient, database: str, name: str, role: str
) -> None:
    token, code = REFUSED[role]
    before = await log_position(database)
    body = await gql(client, mutation_document(name), {"input": INPUTS[name]}, token=token)
    assert body["data"] == {name: None}
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    assert body["errors"][0]["path"] == [name]
    assert await log_position(database) == before


@pytest.mark.parametrize("name", list(INPUTS))
async def test_hr_gets_a_payload_from_every_mutation(client: httpx.AsyncClient, name: str) -> None:
    body = await gql(client, mutation_document(name), {"input": INPUTS[name]})
    assert "errors" not in body
    payload = body["data"][name]
    assert isinstance(payload["errors"], list)
    assert all(e["code"] not in ("FORBIDDEN", "UNAUTHENTICATED") for e in payload["errors"])
