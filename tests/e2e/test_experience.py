"""Experience on a day is the same in ``Person.yearsOfExperience(asOf:)``,
``careerHistory(asOf:)`` and ``ladder replay --as-of`` for someone who left and came back,
before, during and after the gap, on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.live_api import HIRE, HR, backend_url, mutation_document, new_id, runtime_server
from tests.integration.cli.helpers import with_db

QUERY = """query($id: ID!, $asOf: Date) {
  person(id: $id) {
    yearsOfExperience(asOf: $asOf)
    careerHistory(asOf: $asOf) { yearsOfExperience }
  }
}"""
DAYS = ["2017-05-01", "2018-06-01", "2020-03-01", "2021-09-01", "2023-01-01"]


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
    with backend_url(request.param, str(tmp_path_factory.mktemp("experience"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


def graphql(server: LiveServer, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        server.graphql_url,
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {HR}", "accept": "application/json"},
        timeout=10.0,
    )
    body = response.json()
    assert "errors" not in body, body
    data = body["data"]
    assert isinstance(data, dict)
    return data


def write(server: LiveServer, name: str, values: dict[str, Any]) -> None:
    document = HIRE if name == "hirePerson" else mutation_document(name)
    payload = graphql(server, document, {"input": values})[name]
    assert payload["errors"] == [], payload


@pytest.fixture(scope="module")
def rehired(server: LiveServer) -> str:
    """Hired 2018-01-08 with 1 prior year, left 2019-12-31, back 2021-03-01: their UUID."""
    person = new_id()
    write(
        server,
        "hirePerson",
        {
            "personId": person,
            "name": "Mary Jackson",
            "email": f"{person[:8]}@example.com",
            "track": "product",
            "level": "apm",
            "hiredOn": "2018-01-08",
            "priorYears": 1,
        },
    )
    write(
        server,
        "recordDeparture",
        {"personId": person, "effectiveOn": "2019-12-31", "reason": "Career break."},
    )
    write(
        server,
        "rehirePerson",
        {"personId": person, "effectiveOn": "2021-03-01", "track": "product", "level": "apm"},
    )
    return person


@pytest.mark.parametrize("day", DAYS)
def test_experience_on_a_day_is_the_same_in_graphql_and_the_cli(
    server: LiveServer, database: str, rehired: str, day: str
) -> None:
    found = graphql(server, QUERY, {"id": rehired, "asOf": day})["person"]
    history = found["careerHistory"]
    ran = with_db(database, "replay", rehired, "--as-of", day, "--json")
    assert ran.exit_code == 0, ran.stderr
    state = json.loads(ran.stdout)["state"]
    if history is None:  # not yet hired that day: the prior years only
        assert found["yearsOfExperience"] == 1.0
        assert "years_of_experience" not in state
        return
    assert found["yearsOfExperience"] == history["yearsOfExperience"]
    assert found["yearsOfExperience"] == state["years_of_experience"]


def test_experience_is_frozen_during_the_gap(server: LiveServer, rehired: str) -> None:
    def years(day: date) -> float:
        value = graphql(server, QUERY, {"id": rehired, "asOf": day.isoformat()})["person"]
        return float(value["yearsOfExperience"])

    left, away, back = date(2019, 12, 31), date(2020, 8, 1), date(2021, 3, 1)
    assert years(left) == years(away) == years(back)
    assert years(date(2018, 6, 1)) < years(left) < years(date(2022, 1, 1))


def hire_above_experience(server: LiveServer, exception: str | None) -> dict[str, Any]:
    person = new_id()
    values = {
        "personId": person,
        "name": "Dorothy Vaughan",
        "email": f"{person[:8]}@example.com",
        "track": "product",
        "level": "senior_pm",
        "hiredOn": "2020-01-06",
        "priorYears": 1,
        "experienceException": exception,
    }
    payload = graphql(server, HIRE, {"input": values})["hirePerson"]
    assert isinstance(payload, dict)
    return payload


def test_hiring_above_what_the_experience_allows_needs_an_exception(server: LiveServer) -> None:
    refused = hire_above_experience(server, None)
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [
        ("INSUFFICIENT_EXPERIENCE", "experienceException")
    ]
    assert refused["position"] is None
    hired = hire_above_experience(server, "Founded a product company.")
    assert hired["errors"] == []


def test_rehiring_above_the_experience_on_the_rehire_date_needs_an_exception(
    server: LiveServer, rehired: str
) -> None:
    # `rehired` has about 3 years on 2021-03-01: director (10) is beyond them.
    write(
        server,
        "recordDeparture",
        {"personId": rehired, "effectiveOn": "2023-06-30", "reason": "Sabbatical."},
    )
    again = {"personId": rehired, "effectiveOn": "2024-01-08", "track": "product"}
    document = mutation_document("rehirePerson")
    refused = graphql(server, document, {"input": {**again, "level": "director"}})
    codes = [(e["code"], e["field"]) for e in refused["rehirePerson"]["errors"]]
    assert codes == [("INSUFFICIENT_EXPERIENCE", "experienceException")]
    write(
        server,
        "rehirePerson",
        {**again, "level": "director", "experienceException": "Ran a company meanwhile."},
    )
    assert ("PersonRehired", "Ran a company meanwhile.") in listed_exceptions(server)


EXCEPTIONS = """{ experienceExceptions(first: 100) {
  nodes { reason effectiveOn promotion { type levelKey } } } }"""


def listed_exceptions(server: LiveServer) -> list[tuple[str, str]]:
    nodes = graphql(server, EXCEPTIONS, {})["experienceExceptions"]["nodes"]
    return [(n["promotion"]["type"], n["reason"]) for n in nodes]


def test_a_hire_above_the_experience_is_listed_with_the_experience_exceptions(
    server: LiveServer,
) -> None:
    person = new_id()
    hire = {
        "personId": person,
        "name": "Dorothy Vaughan",
        "email": f"{person[:8]}@example.com",
        "track": "product",
        "level": "director",
        "hiredOn": "2022-02-01",
        "priorYears": 2,
    }
    refused = graphql(server, HIRE, {"input": hire})["hirePerson"]
    assert [e["code"] for e in refused["errors"]] == ["INSUFFICIENT_EXPERIENCE"]
    write(server, "hirePerson", {**hire, "experienceException": "Founded two companies."})
    assert ("PersonHired", "Founded two companies.") in listed_exceptions(server)


def test_vp_requires_leadership_experience_in_readiness_and_promotions(
    server: LiveServer,
) -> None:
    person = new_id()
    recently = (date.today() - timedelta(days=200)).isoformat()
    write(
        server,
        "hirePerson",
        {
            "personId": person,
            "name": "Annie Easley",
            "email": f"{person[:8]}@example.com",
            "track": "product",
            "level": "director",
            "hiredOn": recently,
            "priorYears": 14,
        },
    )
    found = graphql(
        server,
        """query($id: ID!) {
          levels(track: "product") { key requires }
          promotionReadiness(personId: $id) { missing }
        }""",
        {"id": person},
    )
    assert {"key": "vp_product", "requires": ["leadership_experience"]} in found["levels"]
    assert "leadership_experience" in found["promotionReadiness"]["missing"]
    promotion = {
        "personId": person,
        "toLevel": "vp_product",
        "effectiveOn": date.today().isoformat(),
        "rationale": "Runs the product organisation.",
    }
    refused = graphql(server, mutation_document("recordPromotion"), {"input": promotion})
    assert [(e["code"], e["field"]) for e in refused["recordPromotion"]["errors"]] == [
        ("REQUIREMENT_NOT_MET", "experienceException")
    ]
    write(server, "recordPromotion", {**promotion, "experienceException": "Led a 40-PM org."})


def test_development_in_a_performance_and_impact_area_counts_in_readiness(
    server: LiveServer,
) -> None:
    person = new_id()
    write(
        server,
        "hirePerson",
        {
            "personId": person,
            "name": "Christine Darden",
            "email": f"{person[:8]}@example.com",
            "track": "product",
            "level": "pm",
            "hiredOn": "2020-01-06",
            "priorYears": 2,
        },
    )
    query = """query($id: ID!) { promotionReadiness(personId: $id) { impactDone missing } }"""
    before = graphql(server, query, {"id": person})["promotionReadiness"]
    assert before["impactDone"] is False
    assert "performance_and_impact" in before["missing"]
    training = {
        "personId": person,
        "program": "Outcome-based roadmaps",
        "effectiveOn": "2023-03-01",
        "developmentArea": "business_impact",
    }
    write(server, "recordTraining", training)
    after = graphql(server, query, {"id": person})["promotionReadiness"]
    assert after["impactDone"] is True
    assert "performance_and_impact" not in after["missing"]
