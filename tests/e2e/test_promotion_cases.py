"""Promotion cases and cycles over HTTP, on both backends: a manager nominates a report
into the open cycle, a named reviewer reviews, calibration compares, HR approves and the
promotion is recorded in the person's stream in the same transaction -- or refused, with
the promotion rule's code and nothing written. Who may do and see what, per role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.auth import Role
from tests.e2e.conftest import LiveServer, mint
from tests.e2e.live_api import (
    HR,
    TODAY,
    backend_url,
    gql,
    hire,
    log_position,
    new_id,
    next_data,
    nothing_more,
    runtime_server,
    subscribed,
)

AUDITOR = mint(Role.AUDITOR, "auditor-1")

PAYLOAD = (
    "position streamVersion replayed events { type stream position streamVersion } "
    "errors { code message field }"
)
CASE_FIELDS = (
    "caseId state fromLevelKey toLevelKey cycleId nominatedBy rationale effectiveOn reason "
    "promotionEventId evidence { area texts } reviews { reviewerId recommendation comment } "
    "person { level { key } }"
)
INPUTS = {
    "openPromotionCycle": "OpenPromotionCycleInput",
    "closePromotionCycle": "ClosePromotionCycleInput",
    "nominateForPromotion": "NominateForPromotionInput",
    "addEvidence": "AddEvidenceInput",
    "namePromotionReviewers": "NamePromotionReviewersInput",
    "reviewPromotion": "ReviewPromotionInput",
    "decidePromotion": "DecidePromotionInput",
    "withdrawNomination": "WithdrawNominationInput",
}


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
    with backend_url(request.param, str(tmp_path_factory.mktemp("cases"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


async def run(
    client: httpx.AsyncClient, name: str, input: dict[str, Any], token: str | None = HR
) -> dict[str, Any]:
    extra = (
        "caseId promotionCase { state }"
        if name not in ("openPromotionCycle", "closePromotionCycle")
        else "cycleId"
    )
    document = (
        f"mutation Run($input: {INPUTS[name]}!) {{ {name}(input: $input) {{ {PAYLOAD} {extra} }} }}"
    )
    body = await gql(client, document, {"input": input}, token=token)
    assert "errors" not in body, body
    payload = body["data"][name]
    assert isinstance(payload, dict)
    return payload


def ok(payload: dict[str, Any]) -> dict[str, Any]:
    assert payload["errors"] == [], payload
    return payload


def codes(payload: dict[str, Any]) -> list[str]:
    assert payload["position"] is None, payload
    return [e["code"] for e in payload["errors"]]


async def case_of(
    client: httpx.AsyncClient, case_id: str, token: str = HR
) -> dict[str, Any] | None:
    body = await gql(
        client,
        "query($id: ID!) { promotionCase(id: $id) { "
        f"{CASE_FIELDS} history {{ type actorId }} }} }}",
        {"id": case_id},
        token=token,
    )
    assert "errors" not in body, body
    found = body["data"]["promotionCase"]
    assert found is None or isinstance(found, dict)
    return found


async def team(client: httpx.AsyncClient) -> tuple[str, str, str]:
    """(manager, report, reviewer): the report is an APM with the experience for PM."""
    manager = (await hire(client, level="senior_pm"))["personId"]
    report = new_id()
    await hire(client, level="apm", prior_years=3, manager_id=manager, person_id=report)
    reviewer = new_id()
    await hire(client, level="group_pm", person_id=reviewer)
    return manager, report, reviewer


def raw(global_or_uuid: str) -> str:
    from api.scopes import parse_id_text

    return parse_id_text(global_or_uuid)


async def open_cycle(client: httpx.AsyncClient, reviewers: list[str]) -> str:
    payload = ok(
        await run(
            client,
            "openPromotionCycle",
            {
                "name": f"Cycle {new_id()[:6]}",
                "closesOn": (TODAY + timedelta(days=30)).isoformat(),
                "reviewerIds": reviewers,
            },
        )
    )
    return str(payload["cycleId"])


async def test_a_nomination_goes_through_a_cycle_to_an_approved_promotion(
    client: httpx.AsyncClient,
) -> None:
    manager, report, reviewer = await team(client)
    manager_token = mint(Role.MANAGER, raw(manager))
    reviewer_token = mint(Role.EMPLOYEE, reviewer)
    report_token = mint(Role.EMPLOYEE, report)
    cycle = await open_cycle(client, [reviewer])

    nominated = ok(
        await run(
            client,
            "nominateForPromotion",
            {
                "personId": report,
                "toLevel": "pm",
                "rationale": "Owns the onboarding funnel end to end.",
                "evidence": [{"area": "analytics", "text": "Built the funnel dashboards."}],
            },
            token=manager_token,
        )
    )
    case_id = nominated["caseId"]
    assert nominated["promotionCase"] == {"state": "NOMINATED"}
    ok(
        await run(
            client,
            "addEvidence",
            {"caseId": case_id, "area": "ux_design", "text": "Ran the usability study."},
            token=manager_token,
        )
    )
    ok(
        await run(
            client,
            "reviewPromotion",
            {"caseId": case_id, "recommendation": "STRONG_YES", "comment": "Clear case."},
            token=reviewer_token,
        )
    )
    assert await case_of(client, case_id, report_token) is None  # not decided yet

    body = await gql(
        client,
        'query($c: ID!) { calibration(cycleId: $c, level: "pm") { levelKey '
        "nominees { promotionCase { caseId } coveredAreas evidenceCoverage recommendationScore "
        "ready } counts { levelKey state count } } }",
        {"c": cycle},
    )
    calibration = body["data"]["calibration"]
    [nominee] = calibration["nominees"]
    assert nominee["promotionCase"]["caseId"] == case_id
    assert nominee["coveredAreas"] == ["ux_design", "analytics"]
    assert nominee["recommendationScore"] == 2
    assert calibration["counts"] == [{"levelKey": "pm", "state": "NOMINATED", "count": 1}]

    decided = ok(
        await run(
            client,
            "decidePromotion",
            {"caseId": case_id, "decision": "APPROVE", "effectiveOn": TODAY.isoformat()},
        )
    )
    written = {(e["type"], e["stream"].split("-")[0]) for e in decided["events"]}
    assert written == {("PromotionApproved", "promotioncase"), ("PromotionRecorded", "person")}
    positions = sorted(e["position"] for e in decided["events"])
    assert positions[1] == positions[0] + 1  # one append

    seen = await case_of(client, case_id, report_token)
    assert seen is not None
    assert seen["state"] == "APPROVED"
    assert seen["effectiveOn"] == TODAY.isoformat()
    assert seen["person"] == {"level": {"key": "pm"}}
    # The person sees the decision, not the calibration: no reviews, no reviewers.
    assert seen["reviews"] == []
    assert [h["type"] for h in seen["history"]] == [
        "PromotionNominated",
        "PromotionEvidenceAdded",
        "PromotionApproved",
    ]
    full = await case_of(client, case_id)
    assert full is not None
    assert [h["type"] for h in full["history"]] == [
        "PromotionNominated",
        "PromotionEvidenceAdded",
        "PromotionReviewed",
        "PromotionApproved",
    ]
    assert full["history"][0]["actorId"] == raw(manager)
    assert [r["recommendation"] for r in full["reviews"]] == ["STRONG_YES"]
    ok(await run(client, "closePromotionCycle", {"cycleId": cycle}))


async def test_an_approval_that_breaks_a_promotion_rule_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, database: str
) -> None:
    person = (await hire(client, level="apm", prior_years=0, hired_on=TODAY - timedelta(days=40)))[
        "personId"
    ]
    case_id = ok(
        await run(
            client,
            "nominateForPromotion",
            {"personId": person, "toLevel": "pm", "rationale": "Fast learner."},
        )
    )["caseId"]
    before = await log_position(database)
    approve = {"caseId": case_id, "decision": "APPROVE", "effectiveOn": TODAY.isoformat()}
    refused = await run(client, "decidePromotion", approve)
    assert codes(refused) == ["INSUFFICIENT_EXPERIENCE"]
    assert await log_position(database) == before
    case = await case_of(client, case_id)
    assert case is not None and case["state"] == "NOMINATED"
    granted = ok(
        await run(
            client,
            "decidePromotion",
            {**approve, "experienceException": "Led the migration alone."},
        )
    )
    assert granted["promotionCase"] == {"state": "APPROVED"}
    again = await run(client, "decidePromotion", approve)
    assert codes(again) == ["PROMOTION_CASE_CLOSED"]


async def test_one_undecided_case_per_person_and_a_withdrawal_frees_them(
    client: httpx.AsyncClient,
) -> None:
    manager, report, _ = await team(client)
    token = mint(Role.MANAGER, raw(manager))
    nominate = {"personId": report, "toLevel": "pm", "rationale": "Ready."}
    keyed = {**nominate, "idempotencyKey": f"nominate-{report}"}
    first = ok(await run(client, "nominateForPromotion", keyed, token=token))["caseId"]
    repeated = ok(await run(client, "nominateForPromotion", keyed, token=token))
    assert (repeated["caseId"], repeated["replayed"]) == (first, True)
    assert codes(await run(client, "nominateForPromotion", nominate, token=token)) == [
        "NOMINATION_ALREADY_OPEN"
    ]
    ok(
        await run(
            client, "withdrawNomination", {"caseId": first, "reason": "Next cycle."}, token=token
        )
    )
    second = ok(await run(client, "nominateForPromotion", nominate, token=token))["caseId"]
    declined = ok(
        await run(
            client,
            "decidePromotion",
            {"caseId": second, "decision": "DECLINE", "reason": "Needs a rotation first."},
        )
    )
    assert declined["promotionCase"] == {"state": "DECLINED"}
    withdrawn = await case_of(client, first)
    assert withdrawn is not None and withdrawn["reason"] == "Next cycle."


async def test_who_may_nominate_review_and_see_a_case(client: httpx.AsyncClient) -> None:
    manager, report, reviewer = await team(client)
    other_manager = (await hire(client, level="senior_pm"))["personId"]
    manager_token = mint(Role.MANAGER, raw(manager))
    stranger = mint(Role.MANAGER, raw(other_manager))
    nominate = {"personId": report, "toLevel": "pm", "rationale": "Ready."}
    assert codes(await run(client, "nominateForPromotion", nominate, token=stranger)) == [
        "NOT_ALLOWED_ON_CASE"
    ]
    case_id = ok(await run(client, "nominateForPromotion", nominate, token=manager_token))["caseId"]
    review = {"caseId": case_id, "recommendation": "YES", "comment": "Good."}
    reviewer_token = mint(Role.EMPLOYEE, reviewer)
    assert codes(await run(client, "reviewPromotion", review, token=reviewer_token)) == [
        "NOT_A_NAMED_REVIEWER"
    ]
    assert await case_of(client, case_id, reviewer_token) is None
    unknown = {"caseId": case_id, "reviewerIds": [new_id()]}
    assert codes(await run(client, "namePromotionReviewers", unknown)) == ["PERSON_NOT_FOUND"]
    ok(await run(client, "namePromotionReviewers", {"caseId": case_id, "reviewerIds": [reviewer]}))
    ok(await run(client, "reviewPromotion", review, token=reviewer_token))
    ok(await run(client, "addEvidence", {"caseId": case_id, "area": "analytics", "text": "x"}))
    assert codes(
        await run(
            client,
            "addEvidence",
            {"caseId": case_id, "area": "analytics", "text": "x"},
            token=stranger,
        )
    ) == ["NOT_ALLOWED_ON_CASE"]

    assert await case_of(client, case_id, manager_token) is not None
    assert await case_of(client, case_id, reviewer_token) is not None
    assert await case_of(client, case_id, AUDITOR) is not None
    assert await case_of(client, case_id, stranger) is None
    assert await case_of(client, case_id, mint(Role.EMPLOYEE, report)) is None

    listed = await gql(
        client,
        "query($p: ID) { promotionCases(personId: $p) { totalCount nodes { caseId } } }",
        {"p": report},
        token=stranger,
    )
    assert listed["data"]["promotionCases"] == {"totalCount": 0, "nodes": []}


async def test_promotion_cases_page_with_keyset_cursors_and_filters(
    client: httpx.AsyncClient,
) -> None:
    ids = []
    level = "senior_pm"
    for _ in range(3):
        person = (await hire(client, level="pm", prior_years=6))["personId"]
        ids.append(
            ok(
                await run(
                    client,
                    "nominateForPromotion",
                    {"personId": person, "toLevel": level, "rationale": "Ready."},
                )
            )["caseId"]
        )
    query = (
        'query($after: String) { promotionCases(first: 2, after: $after, level: "senior_pm", '
        "state: NOMINATED) { totalCount pageInfo { hasNextPage endCursor } nodes { caseId } } }"
    )
    seen: list[str] = []
    after = None
    while True:
        page = (await gql(client, query, {"after": after}))["data"]["promotionCases"]
        assert page["totalCount"] >= 3
        seen += [n["caseId"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [i for i in seen if i in ids] == ids
    assert len(seen) == len(set(seen))


ROLE_TOKENS = {
    "employee": mint(Role.EMPLOYEE, new_id()),
    "manager": mint(Role.MANAGER, new_id()),
    "auditor": AUDITOR,
    "no-token": None,
}
ALLOWED = {
    "openPromotionCycle": {"hr"},
    "closePromotionCycle": {"hr"},
    "nominateForPromotion": {"hr", "manager"},
    "addEvidence": {"hr", "manager"},
    "namePromotionReviewers": {"hr"},
    "reviewPromotion": {"hr", "manager", "employee"},
    "decidePromotion": {"hr"},
    "withdrawNomination": {"hr", "manager"},
}
SAMPLE = {
    "openPromotionCycle": {"name": "x", "closesOn": TODAY.isoformat()},
    "closePromotionCycle": {"cycleId": new_id()},
    "nominateForPromotion": {"personId": new_id(), "toLevel": "pm", "rationale": "x"},
    "addEvidence": {"caseId": new_id(), "area": "analytics", "text": "x"},
    "namePromotionReviewers": {"caseId": new_id(), "reviewerIds": [new_id()]},
    "reviewPromotion": {"caseId": new_id(), "recommendation": "YES", "comment": "x"},
    "decidePromotion": {"caseId": new_id(), "decision": "DECLINE", "reason": "x"},
    "withdrawNomination": {"caseId": new_id(), "reason": "x"},
}


@pytest.mark.parametrize("role", list(ROLE_TOKENS))
@pytest.mark.parametrize("name", list(INPUTS))
async def test_roles_that_can_never_act_are_refused_before_anything_is_judged(
    client: httpx.AsyncClient, database: str, name: str, role: str
) -> None:
    before = await log_position(database)
    document = f"mutation Run($input: {INPUTS[name]}!) {{ {name}(input: $input) {{ {PAYLOAD} }} }}"
    body = await gql(client, document, {"input": SAMPLE[name]}, token=ROLE_TOKENS[role])
    if role in ALLOWED[name]:
        assert "errors" not in body, body
        assert body["data"][name]["errors"]  # judged by the rules: an unknown case or person
    else:
        expected = "UNAUTHENTICATED" if role == "no-token" else "FORBIDDEN"
        assert body["data"] == {name: None}
        assert [e["extensions"]["code"] for e in body["errors"]] == [expected]
    assert await log_position(database) == before


async def test_employees_read_no_cycles_calibration_without_being_named(
    client: httpx.AsyncClient,
) -> None:
    body = await gql(client, "{ promotionCycles { name } }", token=None)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    cycle = await open_cycle(client, [])
    body = await gql(
        client,
        "query($c: ID!) { calibration(cycleId: $c) { nominees { ready } counts { count } } }",
        {"c": cycle},
        token=mint(Role.EMPLOYEE, new_id()),
    )
    assert body["data"]["calibration"] == {"nominees": [], "counts": []}
    ok(await run(client, "closePromotionCycle", {"cycleId": cycle}))


DECISIONS = (
    "subscription($after: Int) { promotionDecisions(afterPosition: $after) { "
    "position type caseId state effectiveOn reason promotionCase { toLevelKey } } }"
)


async def test_subscribers_follow_decisions_on_the_cases_they_may_see(
    server: LiveServer, client: httpx.AsyncClient, database: str
) -> None:
    start = await log_position(database)
    manager, report, _ = await team(client)
    manager_token = mint(Role.MANAGER, raw(manager))
    nominate = {"personId": report, "toLevel": "pm", "rationale": "Ready."}
    first = ok(await run(client, "nominateForPromotion", nominate, token=manager_token))["caseId"]
    ok(
        await run(
            client, "decidePromotion", {"caseId": first, "decision": "DECLINE", "reason": "Soon."}
        )
    )
    async with subscribed(server, DECISIONS, {"after": start}, token=manager_token) as ws:
        declined = (await next_data(ws, timeout=10.0))["promotionDecisions"]
        assert (declined["caseId"], declined["state"], declined["reason"]) == (
            first,
            "DECLINED",
            "Soon.",
        )
        second = ok(await run(client, "nominateForPromotion", nominate, token=manager_token))[
            "caseId"
        ]
        approve = {"caseId": second, "decision": "APPROVE", "effectiveOn": TODAY.isoformat()}
        ok(await run(client, "decidePromotion", approve))
        approved = (await next_data(ws, timeout=10.0))["promotionDecisions"]
        assert (approved["caseId"], approved["state"]) == (second, "APPROVED")
        assert approved["effectiveOn"] == TODAY.isoformat()
        assert approved["promotionCase"] == {"toLevelKey": "pm"}
        assert await nothing_more(ws)
    async with subscribed(
        server, DECISIONS, {"after": start}, token=mint(Role.EMPLOYEE, new_id())
    ) as ws:
        assert await nothing_more(ws)


async def test_a_case_is_a_node_resolved_only_for_those_who_may_see_it(
    client: httpx.AsyncClient,
) -> None:
    manager, report, _ = await team(client)
    token = mint(Role.MANAGER, raw(manager))
    nominate = {"personId": report, "toLevel": "pm", "rationale": "Ready."}
    case_id = ok(await run(client, "nominateForPromotion", nominate, token=token))["caseId"]
    body = await gql(client, "query($id: ID!) { promotionCase(id: $id) { id } }", {"id": case_id})
    global_id = body["data"]["promotionCase"]["id"]
    node = "query($id: ID!) { node(id: $id) { ... on PromotionCase { caseId state } } }"
    mine = await gql(client, node, {"id": global_id}, token=token)
    assert mine["data"]["node"] == {"caseId": case_id, "state": "NOMINATED"}
    theirs = await gql(client, node, {"id": global_id}, token=mint(Role.EMPLOYEE, report))
    assert theirs["data"]["node"] is None
