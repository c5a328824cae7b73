"""Every mutation's happy path, idempotency and expectedVersion, over HTTP on both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.auth import Role
from api.scopes import parse_id_text
from events.db import create_engine
from events.sql_store import SqlEventStore
from tests.e2e.conftest import LiveServer, mint
from tests.e2e.live_api import (
    HIRE,
    HIRED_LONG_AGO,
    HR,
    TODAY,
    backend_url,
    gql,
    hire,
    ladder_input,
    log_position,
    mutation_document,
    new_id,
    promote,
    run_mutation,
    runtime_server,
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
    with backend_url(request.param, str(tmp_path_factory.mktemp("writes"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


@pytest.fixture(scope="module")
def engineering() -> dict[str, Any]:
    return ladder_input("engineering", "Engineering")


async def publish_engineering(client: httpx.AsyncClient, ladder: dict[str, Any]) -> None:
    """Publish the engineering ladder once per server (the key makes repeats harmless)."""
    payload = await run_mutation(
        client, "publishLadder", {**ladder, "idempotencyKey": "publish-engineering"}
    )
    assert payload["errors"] == []


def types_of(payload: dict[str, Any]) -> list[str]:
    return [e["type"] for e in payload["events"]]


async def test_hiring_records_a_person_and_reports_where_the_log_got(
    client: httpx.AsyncClient, database: str
) -> None:
    before = await log_position(database)
    person_id = new_id()
    payload = await hire(client, person_id=person_id)
    assert types_of(payload) == ["PersonHired"]
    assert payload["position"] == before + 1 == await log_position(database)
    assert payload["streamVersion"] == 1
    assert payload["replayed"] is False
    person = await gql(
        client, "query($id: ID!) { node(id: $id) { id } }", {"id": payload["personId"]}
    )
    assert person["data"]["node"] == {"id": payload["personId"]}


async def test_a_hire_without_a_person_id_gets_one_made_up(client: httpx.AsyncClient) -> None:
    body = await gql(
        client,
        HIRE,
        {
            "input": {
                "name": "Ada Lovelace",
                "email": "ada@example.com",
                "track": "product",
                "level": "apm",
                "hiredOn": HIRED_LONG_AGO.isoformat(),
            }
        },
    )
    payload = body["data"]["hirePerson"]
    assert payload["errors"] == []
    person = await run_mutation(
        client,
        "recordTraining",
        {
            "personId": payload["personId"],
            "program": "Onboarding",
            "effectiveOn": TODAY.isoformat(),
        },
        extra="person { id name }",
    )
    assert person["person"] == {"id": payload["personId"], "name": "Ada Lovelace"}


async def test_a_promotion_moves_a_person_up_one_level(client: httpx.AsyncClient) -> None:
    person_id = (await hire(client, level="pm", prior_years=6))["personId"]
    payload = await run_mutation(
        client,
        "recordPromotion",
        {
            "personId": person_id,
            "toLevel": "senior_pm",
            "effectiveOn": (TODAY - timedelta(days=30)).isoformat(),
            "rationale": "Led the pricing launch.",
            "evidence": [{"area": "business_impact", "text": "Revenue up 12%."}],
        },
        extra="personId person { id levelKey }",
    )
    assert payload["errors"] == []
    assert types_of(payload) == ["PromotionRecorded"]
    assert payload["streamVersion"] == 2
    assert payload["personId"] == person_id
    assert payload["person"] == {"id": person_id, "levelKey": "senior_pm"}  # read your writes


async def test_a_demotion_moves_a_person_down(client: httpx.AsyncClient) -> None:
    person_id = (await hire(client, level="senior_pm", prior_years=6))["personId"]
    payload = await run_mutation(
        client,
        "recordDemotion",
        {
            "personId": person_id,
            "toLevel": "pm",
            "effectiveOn": (TODAY - timedelta(days=3)).isoformat(),
            "reason": "Asked to step back.",
        },
    )
    assert payload["errors"] == []
    assert types_of(payload) == ["DemotionRecorded"]


async def test_publishing_a_ladder_returns_the_published_version(
    client: httpx.AsyncClient, engineering: dict[str, Any]
) -> None:
    payload = await run_mutation(
        client,
        "publishLadder",
        ladder_input("design", "Design"),
        extra="ladder { track version name levels { key } }",
    )
    assert payload["errors"] == []
    assert types_of(payload) == ["LadderPublished"]
    assert payload["ladder"]["track"] == "design"
    assert payload["ladder"]["version"] == 1
    assert payload["ladder"]["levels"][0]["key"] == "associate_engineer"


async def test_a_lateral_move_changes_track(
    client: httpx.AsyncClient, engineering: dict[str, Any]
) -> None:
    await publish_engineering(client, engineering)
    person_id = (await hire(client, level="pm", prior_years=3))["personId"]
    payload = await run_mutation(
        client,
        "recordLateralMove",
        {
            "personId": person_id,
            "toTrack": "engineering",
            "toLevel": "engineer",
            "effectiveOn": (TODAY - timedelta(days=2)).isoformat(),
            "reason": "Moved to the platform team.",
        },
    )
    assert payload["errors"] == []
    assert types_of(payload) == ["LateralMoveRecorded"]


async def test_a_mentorship_starts_and_ends_in_both_streams(client: httpx.AsyncClient) -> None:
    mentor = (await hire(client, level="director", prior_years=12))["personId"]
    mentee = (await hire(client, level="apm"))["personId"]
    started = await run_mutation(
        client,
        "startMentorship",
        {
            "mentorId": mentor,
            "menteeId": mentee,
            "effectiveOn": (TODAY - timedelta(days=20)).isoformat(),
            "goals": ["Run a discovery sprint"],
        },
        extra="mentorshipId mentorId menteeId mentor { id } mentee { id }",
    )
    assert started["errors"] == []
    assert types_of(started) == ["MentorshipStarted", "MentorshipStarted"]
    assert {e["stream"] for e in started["events"]} == {
        f"person-{_uuid(mentor)}",
        f"person-{_uuid(mentee)}",
    }
    assert (started["mentorId"], started["menteeId"]) == (mentor, mentee)
    assert (started["mentor"], started["mentee"]) == ({"id": mentor}, {"id": mentee})
    ended = await run_mutation(
        client,
        "endMentorship",
        {
            "mentorshipId": started["mentorshipId"],
            "personId": mentee,
            "effectiveOn": (TODAY - timedelta(days=1)).isoformat(),
            "outcome": "Ran two sprints.",
        },
        extra="mentorshipId",
    )
    assert ended["errors"] == []
    assert types_of(ended) == ["MentorshipEnded", "MentorshipEnded"]
    assert ended["mentorshipId"] == started["mentorshipId"]


async def test_a_rotation_starts_and_ends(client: httpx.AsyncClient) -> None:
    person_id = (await hire(client, level="pm", prior_years=3))["personId"]
    started = await run_mutation(
        client,
        "startRotation",
        {
            "personId": person_id,
            "hostTeam": "Growth",
            "developmentArea": "analytics",
            "effectiveOn": (TODAY - timedelta(days=60)).isoformat(),
            "plannedEndOn": (TODAY + timedelta(days=30)).isoformat(),
        },
        extra="rotationId",
    )
    assert started["errors"] == []
    assert types_of(started) == ["RoleRotationStarted"]
    ended = await run_mutation(
        client,
        "endRotation",
        {
            "rotationId": started["rotationId"],
            "personId": person_id,
            "effectiveOn": (TODAY - timedelta(days=1)).isoformat(),
            "outcome": "Built the funnel dashboards.",
        },
        extra="rotationId",
    )
    assert ended["errors"] == []
    assert types_of(ended) == ["RoleRotationEnded"]
    assert ended["rotationId"] == started["rotationId"]


async def test_training_is_recorded(client: httpx.AsyncClient) -> None:
    person_id = (await hire(client))["personId"]
    payload = await run_mutation(
        client,
        "recordTraining",
        {"personId": person_id, "program": "Leading teams", "effectiveOn": TODAY.isoformat()},
    )
    assert payload["errors"] == []
    assert types_of(payload) == ["LeadershipTrainingCompleted"]


async def test_a_person_departs_and_is_rehired(client: httpx.AsyncClient) -> None:
    person_id = (await hire(client))["personId"]
    departed = await run_mutation(
        client,
        "recordDeparture",
        {
            "personId": person_id,
            "effectiveOn": (TODAY - timedelta(days=100)).isoformat(),
            "reason": "Moved abroad.",
        },
    )
    assert types_of(departed) == ["PersonDeparted"]
    rehired = await run_mutation(
        client,
        "rehirePerson",
        {
            "personId": person_id,
            "effectiveOn": (TODAY - timedelta(days=5)).isoformat(),
            "track": "product",
            "level": "pm",
        },
    )
    assert rehired["errors"] == []
    assert types_of(rehired) == ["PersonRehired"]
    assert rehired["streamVersion"] == 3


async def test_a_manager_change_is_recorded(client: httpx.AsyncClient) -> None:
    manager = (await hire(client, level="director", prior_years=12))["personId"]
    person_id = (await hire(client))["personId"]
    payload = await run_mutation(
        client,
        "changeManager",
        {"personId": person_id, "managerId": manager, "effectiveOn": TODAY.isoformat()},
    )
    assert payload["errors"] == []
    assert types_of(payload) == ["ManagerChanged"]


async def test_a_promotion_is_corrected_then_rescinded(client: httpx.AsyncClient) -> None:
    person_id = (await hire(client, level="pm", prior_years=6))["personId"]
    promoted = await promote(client, person_id, "senior_pm", TODAY - timedelta(days=40))
    event_id = promoted["events"][0]["eventId"]
    corrected = await run_mutation(
        client,
        "correctEvent",
        {
            "personId": person_id,
            "targetEventId": event_id,
            "changes": {"effectiveOn": (TODAY - timedelta(days=41)).isoformat()},
            "reason": "The letter was dated a day earlier.",
        },
    )
    assert corrected["errors"] == []
    assert types_of(corrected) == ["EventCorrected"]
    rescinded = await run_mutation(
        client,
        "rescindEvent",
        {"personId": person_id, "targetEventId": event_id, "reason": "Recorded in error."},
    )
    assert rescinded["errors"] == []
    assert types_of(rescinded) == ["EventRescinded"]


# --- idempotency and expectedVersion ----------------------------------------------------


async def test_repeating_an_idempotency_key_returns_the_first_result_and_writes_nothing(
    client: httpx.AsyncClient, database: str
) -> None:
    person_id = (await hire(client, level="pm", prior_years=6))["personId"]
    promotion = {
        "personId": person_id,
        "toLevel": "senior_pm",
        "effectiveOn": (TODAY - timedelta(days=10)).isoformat(),
        "rationale": "Led the launch.",
        "idempotencyKey": f"promote-{person_id}",
    }
    first = await run_mutation(client, "recordPromotion", promotion)
    position = await log_position(database)
    again = await run_mutation(client, "recordPromotion", promotion)
    assert await log_position(database) == position
    assert again["replayed"] is True
    assert again["errors"] == []
    assert (again["position"], again["streamVersion"], again["events"]) == (
        first["position"],
        first["streamVersion"],
        first["events"],
    )


async def test_idempotency_keys_are_scoped_to_the_caller(
    client: httpx.AsyncClient, database: str
) -> None:
    person_id = (await hire(client))["personId"]
    training = {
        "personId": person_id,
        "program": "Leading",
        "effectiveOn": TODAY.isoformat(),
        "idempotencyKey": "shared-key",
    }
    first = await run_mutation(client, "recordTraining", training)
    other_hr = mint(Role.HR, "hr-2")
    second = await run_mutation(client, "recordTraining", training, token=other_hr)
    assert (first["replayed"], second["replayed"]) == (False, False)
    assert second["position"] > first["position"]
    again = await run_mutation(client, "recordTraining", training, token=other_hr)
    assert (again["replayed"], again["position"]) == (True, second["position"])


async def test_an_idempotency_key_used_for_another_operation_is_refused(
    client: httpx.AsyncClient, database: str
) -> None:
    person_id = (await hire(client))["personId"]
    key = f"train-{person_id}"
    await run_mutation(
        client,
        "recordTraining",
        {
            "personId": person_id,
            "program": "Leading",
            "effectiveOn": TODAY.isoformat(),
            "idempotencyKey": key,
        },
    )
    position = await log_position(database)
    payload = await run_mutation(
        client,
        "recordDeparture",
        {
            "personId": person_id,
            "effectiveOn": TODAY.isoformat(),
            "reason": "Left",
            "idempotencyKey": key,
        },
    )
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("IDEMPOTENCY_KEY_REUSED", "idempotencyKey")
    ]
    assert payload["position"] is None
    assert await log_position(database) == position


async def test_an_expected_version_that_moved_on_is_a_concurrency_conflict(
    client: httpx.AsyncClient, database: str
) -> None:
    hired = await hire(client, level="pm", prior_years=6)
    person_id = hired["personId"]
    await run_mutation(
        client,
        "recordTraining",
        {"personId": person_id, "program": "Leading", "effectiveOn": TODAY.isoformat()},
    )
    position = await log_position(database)
    payload = await run_mutation(
        client,
        "recordPromotion",
        {
            "personId": person_id,
            "toLevel": "senior_pm",
            "effectiveOn": TODAY.isoformat(),
            "rationale": "Stale read.",
            "expectedVersion": hired["streamVersion"],
        },
    )
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("CONCURRENCY_CONFLICT", "expectedVersion")
    ]
    assert payload["position"] is None and payload["events"] == []
    assert await log_position(database) == position


async def test_the_current_expected_version_lets_the_write_through(
    client: httpx.AsyncClient,
) -> None:
    hired = await hire(client, level="pm", prior_years=6)
    payload = await run_mutation(
        client,
        "recordPromotion",
        {
            "personId": hired["personId"],
            "toLevel": "senior_pm",
            "effectiveOn": TODAY.isoformat(),
            "rationale": "Fresh read.",
            "expectedVersion": hired["streamVersion"],
        },
    )
    assert payload["errors"] == []
    assert payload["streamVersion"] == hired["streamVersion"] + 1


def _uuid(global_or_raw: str) -> str:
    return parse_id_text(global_or_raw)


async def test_the_log_records_who_wrote_under_which_request_and_key(
    client: httpx.AsyncClient, database: str
) -> None:
    person_id = (await hire(client))["personId"]
    response = await client.post(
        "/graphql",
        json={
            "query": mutation_document("recordTraining"),
            "variables": {
                "input": {
                    "personId": person_id,
                    "program": "Leading",
                    "effectiveOn": TODAY.isoformat(),
                    "idempotencyKey": "train-with-metadata",
                }
            },
        },
        headers={"authorization": f"Bearer {HR}", "x-request-id": "req-42"},
    )
    position = response.json()["data"]["recordTraining"]["position"]
    engine = create_engine(database)
    try:
        [event] = await SqlEventStore(engine).read_all(position - 1, limit=1)
    finally:
        await engine.dispose()
    assert event.metadata["actor_id"] == "hr-1"
    assert event.metadata["actor_role"] == "hr"
    assert event.metadata["correlation_id"] == "req-42"
    assert event.metadata["idempotency_key"].endswith(":train-with-metadata")
