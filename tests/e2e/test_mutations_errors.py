"""Every refusal shows up as payload ``errors { code field }`` and writes nothing.

Domain rules, bad ids and keys, and concurrency conflicts are payload errors; malformed
requests (dates in the wrong format, wrong variable types) are request errors. Either
way the log's position does not move.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.live_api import (
    HIRED_LONG_AGO,
    HIRED_RECENTLY,
    HR,
    TODAY,
    backend_url,
    hire,
    ladder_input,
    log_position,
    mutation_document,
    new_id,
    run_mutation,
    runtime_server,
)

PAST = (TODAY - timedelta(days=7)).isoformat()


@dataclass(frozen=True)
class World:
    """People in known states, made once per server."""

    director: str
    apm: str
    pm: str
    newcomer: str
    departed: str
    on_rotation: str
    hire_event: str


async def _build_world(server: LiveServer) -> World:
    async with server.client() as client:
        director = (await hire(client, level="director", prior_years=12))["personId"]
        apm = (await hire(client, level="apm"))["personId"]
        pm_hire = await hire(client, level="pm", prior_years=6)
        newcomer = (await hire(client, level="pm", hired_on=HIRED_RECENTLY))["personId"]
        departed = (await hire(client))["personId"]
        await run_mutation(
            client,
            "recordDeparture",
            {"personId": departed, "effectiveOn": PAST, "reason": "Left."},
        )
        on_rotation = (await hire(client, level="pm", prior_years=3))["personId"]
        await run_mutation(
            client,
            "startRotation",
            {
                "personId": on_rotation,
                "hostTeam": "Growth",
                "developmentArea": "analytics",
                "effectiveOn": PAST,
                "plannedEndOn": (TODAY + timedelta(days=60)).isoformat(),
            },
        )
    return World(
        director=director,
        apm=apm,
        pm=pm_hire["personId"],
        newcomer=newcomer,
        departed=departed,
        on_rotation=on_rotation,
        hire_event=pm_hire["events"][0]["eventId"],
    )


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with backend_url(request.param, str(tmp_path_factory.mktemp("errors"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


@pytest.fixture(scope="module")
def world(server: LiveServer) -> World:
    return asyncio.run(_build_world(server))


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


Input = Callable[[World], dict[str, Any]]


def hire_input(**changes: Any) -> Input:
    def build(w: World) -> dict[str, Any]:
        base = {
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "track": "product",
            "level": "pm",
            "hiredOn": HIRED_LONG_AGO.isoformat(),
        }
        return {**base, **{k: (v(w) if callable(v) else v) for k, v in changes.items()}}

    return build


def promotion(person: Callable[[World], str], to_level: str, on: str = PAST, **more: Any) -> Input:
    return lambda w: {
        "personId": person(w),
        "toLevel": to_level,
        "effectiveOn": on,
        "rationale": "Because.",
        **more,
    }


def bad_ladder(w: World) -> dict[str, Any]:
    ladder = ladder_input("broken", "Broken")
    ladder["levels"][1]["rank"] = ladder["levels"][0]["rank"]
    return ladder


CASES: list[tuple[str, str, Input, str, str | None]] = [
    ("hire-unknown-track", "hirePerson", hire_input(track="sales"), "UNKNOWN_TRACK", "track"),
    ("hire-unknown-level", "hirePerson", hire_input(level="cto"), "UNKNOWN_LEVEL", "level"),
    ("hire-bad-email", "hirePerson", hire_input(email="nope"), "VALIDATION_ERROR", "email"),
    (
        "hire-existing-person",
        "hirePerson",
        hire_input(personId=lambda w: w.pm),
        "PERSON_ALREADY_EXISTS",
        "personId",
    ),
    (
        "hire-too-far-ahead",
        "hirePerson",
        hire_input(hiredOn=(TODAY + timedelta(days=800)).isoformat()),
        "EFFECTIVE_DATE_TOO_FAR_AHEAD",
        "hiredOn",
    ),
    (
        "hire-bad-manager-id",
        "hirePerson",
        hire_input(managerId="not-an-id"),
        "INVALID_ID",
        "managerId",
    ),
    (
        "promotion-skips-a-level",
        "recordPromotion",
        promotion(lambda w: w.pm, "group_pm"),
        "LEVEL_SKIPPED",
        "toLevel",
    ),
    (
        "promotion-goes-down",
        "recordPromotion",
        promotion(lambda w: w.pm, "apm"),
        "NOT_A_PROMOTION",
        "toLevel",
    ),
    (
        "promotion-without-experience",
        "recordPromotion",
        promotion(lambda w: w.newcomer, "senior_pm"),
        "INSUFFICIENT_EXPERIENCE",
        "experienceException",
    ),
    (
        "promotion-before-hire",
        "recordPromotion",
        promotion(lambda w: w.pm, "senior_pm", on="2001-01-01"),
        "EFFECTIVE_DATE_BEFORE_HIRE",
        "effectiveOn",
    ),
    (
        "promotion-of-nobody",
        "recordPromotion",
        promotion(lambda w: new_id(), "senior_pm"),
        "PERSON_NOT_FOUND",
        "personId",
    ),
    (
        "promotion-of-a-departed-person",
        "recordPromotion",
        promotion(lambda w: w.departed, "senior_pm"),
        "PERSON_DEPARTED",
        "personId",
    ),
    (
        "promotion-with-a-bad-id",
        "recordPromotion",
        promotion(lambda w: "UGVyc29uOm5vdC1hLXV1aWQ=", "senior_pm"),
        "INVALID_ID",
        "personId",
    ),
    (
        "promotion-with-duplicate-evidence",
        "recordPromotion",
        promotion(
            lambda w: w.pm,
            "senior_pm",
            evidence=[{"area": "analytics", "text": "a"}, {"area": "analytics", "text": "b"}],
        ),
        "VALIDATION_ERROR",
        "evidence",
    ),
    (
        "promotion-with-a-bad-idempotency-key",
        "recordPromotion",
        promotion(lambda w: w.pm, "senior_pm", idempotencyKey="has spaces"),
        "VALIDATION_ERROR",
        "idempotencyKey",
    ),
    (
        "promotion-with-a-negative-expected-version",
        "recordPromotion",
        promotion(lambda w: w.pm, "senior_pm", expectedVersion=-1),
        "VALIDATION_ERROR",
        "expectedVersion",
    ),
    (
        "demotion-goes-up",
        "recordDemotion",
        lambda w: {"personId": w.pm, "toLevel": "senior_pm", "effectiveOn": PAST, "reason": "x"},
        "NOT_A_DEMOTION",
        "toLevel",
    ),
    (
        "mentoring-oneself",
        "startMentorship",
        lambda w: {"mentorId": w.director, "menteeId": w.director, "effectiveOn": PAST},
        "SELF_MENTORSHIP",
        "menteeId",
    ),
    (
        "mentor-not-senior",
        "startMentorship",
        lambda w: {"mentorId": w.apm, "menteeId": w.director, "effectiveOn": PAST},
        "MENTOR_NOT_SENIOR",
        "mentorId",
    ),
    (
        "ending-an-unknown-mentorship",
        "endMentorship",
        lambda w: {
            "mentorshipId": new_id(),
            "personId": w.apm,
            "effectiveOn": PAST,
            "outcome": "x",
        },
        "MENTORSHIP_NOT_FOUND",
        "mentorshipId",
    ),
    (
        "overlapping-rotation",
        "startRotation",
        lambda w: {
            "personId": w.on_rotation,
            "hostTeam": "Search",
            "developmentArea": "analytics",
            "effectiveOn": TODAY.isoformat(),
            "plannedEndOn": (TODAY + timedelta(days=30)).isoformat(),
        },
        "ROTATION_OVERLAP",
        "effectiveOn",
    ),
    (
        "ending-an-unknown-rotation",
        "endRotation",
        lambda w: {
            "rotationId": new_id(),
            "personId": w.on_rotation,
            "effectiveOn": TODAY.isoformat(),
            "outcome": "x",
        },
        "ROTATION_NOT_FOUND",
        "rotationId",
    ),
    (
        "training-for-nobody",
        "recordTraining",
        lambda w: {"personId": new_id(), "program": "x", "effectiveOn": PAST},
        "PERSON_NOT_FOUND",
        "personId",
    ),
    (
        "departing-twice",
        "recordDeparture",
        lambda w: {
            "personId": w.departed,
            "effectiveOn": (TODAY - timedelta(days=30)).isoformat(),
            "reason": "x",
        },
        "PERSON_DEPARTED",
        "personId",
    ),
    (
        "rehiring-someone-still-here",
        "rehirePerson",
        lambda w: {"personId": w.pm, "effectiveOn": PAST, "track": "product", "level": "pm"},
        "PERSON_NOT_DEPARTED",
        "personId",
    ),
    (
        "managing-oneself",
        "changeManager",
        lambda w: {"personId": w.pm, "managerId": w.pm, "effectiveOn": PAST},
        "VALIDATION_ERROR",
        "managerId",
    ),
    (
        "correcting-an-unknown-event",
        "correctEvent",
        lambda w: {
            "personId": w.pm,
            "targetEventId": new_id(),
            "changes": {"rationale": "x"},
            "reason": "x",
        },
        "EVENT_NOT_FOUND",
        "targetEventId",
    ),
    (
        "correcting-with-changes-that-are-not-an-object",
        "correctEvent",
        lambda w: {
            "personId": w.pm,
            "targetEventId": w.hire_event,
            "changes": ["name"],
            "reason": "x",
        },
        "VALIDATION_ERROR",
        "changes",
    ),
    (
        "correcting-an-unknown-field",
        "correctEvent",
        lambda w: {
            "personId": w.pm,
            "targetEventId": w.hire_event,
            "changes": {"shoeSize": 42},
            "reason": "x",
        },
        "INVALID_CORRECTION",
        "changes",
    ),
    (
        "rescinding-a-hire",
        "rescindEvent",
        lambda w: {"personId": w.pm, "targetEventId": w.hire_event, "reason": "x"},
        "INVALID_CORRECTION",
        "targetEventId",
    ),
    ("publishing-an-invalid-ladder", "publishLadder", bad_ladder, "LADDER_INVALID", "ladder"),
    (
        "publishing-the-same-ladder-again",
        "publishLadder",
        lambda w: ladder_input("product", "Product Management", source="product"),
        "LADDER_UNCHANGED",
        "ladder",
    ),
]


@pytest.mark.parametrize(
    ("name", "input", "code", "field"),
    [pytest.param(name, build, code, field, id=case) for case, name, build, code, field in CASES],
)
async def test_a_refused_mutation_reports_the_code_and_field_and_writes_nothing(
    client: httpx.AsyncClient,
    database: str,
    world: World,
    name: str,
    input: Input,
    code: str,
    field: str | None,
) -> None:
    before = await log_position(database)
    payload = await run_mutation(client, name, input(world))
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert all(e["message"] for e in payload["errors"])
    assert (payload["position"], payload["streamVersion"], payload["events"]) == (None, None, [])
    assert await log_position(database) == before


@pytest.mark.parametrize(
    ("variables", "names"),
    [
        (
            {"personId": "x", "toLevel": "pm", "effectiveOn": "03/01/2024", "rationale": "x"},
            ".effectiveOn",
        ),
        (
            {"personId": "x", "toLevel": "pm", "effectiveOn": "2024-02-30", "rationale": "x"},
            ".effectiveOn",
        ),
        (
            {"personId": "x", "toLevel": 3, "effectiveOn": "2024-02-01", "rationale": "x"},
            ".toLevel",
        ),
        ({"personId": "x", "effectiveOn": "2024-02-01", "rationale": "x"}, "'toLevel'"),
        (
            {
                "personId": "x",
                "toLevel": "pm",
                "effectiveOn": "2024-02-01",
                "rationale": "x",
                "expectedVersion": "one",
            },
            ".expectedVersion",
        ),
    ],
    ids=["date-format", "impossible-date", "wrong-type", "missing-field", "not-an-int"],
)
async def test_a_malformed_input_is_a_request_error_with_nothing_written(
    client: httpx.AsyncClient, database: str, variables: dict[str, Any], names: str
) -> None:
    before = await log_position(database)
    response = await client.post(
        "/graphql",
        json={"query": mutation_document("recordPromotion"), "variables": {"input": variables}},
        headers={
            "authorization": f"Bearer {HR}",
            "accept": "application/graphql-response+json",
        },
    )
    body = response.json()
    assert response.status_code == 400
    assert "data" not in body
    [error] = body["errors"]
    assert names in error["message"]
    assert error["extensions"]["code"]
    assert await log_position(database) == before
