"""Ladder versions over HTTP, on both backends: a version that drops a level people are on
is refused (``LADDER_LEVELS_OCCUPIED``); old versions stay readable; past facts keep the
titles of the version they were judged against."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.live_api import (
    TODAY,
    backend_url,
    gql,
    hire,
    ladder_input,
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
    with backend_url(request.param, str(tmp_path_factory.mktemp("ladders"))) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[LiveServer]:
    with runtime_server(database) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as http:
        yield http


def product_ladder(**titles: str) -> dict[str, Any]:
    """The product ladder as published, with some titles changed."""
    ladder = ladder_input("product", "Product Management", source="product")
    for level in ladder["levels"]:
        level["title"] = titles.get(level["key"], level["title"])
    return ladder


def without(ladder: dict[str, Any], key: str) -> dict[str, Any]:
    levels = [dict(lv) for lv in ladder["levels"] if lv["key"] != key]
    for rank, level in enumerate(levels, start=1):
        level["rank"] = rank
    return {**ladder, "levels": levels}


async def publish(client: httpx.AsyncClient, ladder: dict[str, Any]) -> dict[str, Any]:
    return await run_mutation(client, "publishLadder", ladder)


async def test_a_version_that_drops_an_occupied_level_is_refused_naming_it(
    client: httpx.AsyncClient,
) -> None:
    await hire(client, level="group_pm")
    payload = await publish(client, without(product_ladder(), "group_pm"))
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("LADDER_LEVELS_OCCUPIED", "levels")
    ]
    assert "group_pm (1)" in payload["errors"][0]["message"]
    assert payload["position"] is None


async def test_old_versions_stay_readable_and_past_facts_keep_their_titles(
    client: httpx.AsyncClient,
) -> None:
    person = (await hire(client, level="apm", prior_years=20))["personId"]
    await promote(client, person, "pm", TODAY - timedelta(days=30))
    renamed = await publish(client, product_ladder(pm="Product Manager II"))
    assert renamed["errors"] == [], renamed
    body = await gql(
        client,
        """query($id: ID!) {
          v1: ladder(track: "product", version: 1) { version level(key: "pm") { title } }
          now: ladder(track: "product") { version level(key: "pm") { title } }
          old: levels(track: "product", version: 1) { key title }
          none: ladder(track: "product", version: 99) { version }
          person(id: $id) { careerHistory { events { type toLevel { title } } } }
        }""",
        {"id": person},
    )
    assert "errors" not in body, body
    data = body["data"]
    assert data["v1"] == {"version": 1, "level": {"title": "Product Manager"}}
    assert data["now"]["level"] == {"title": "Product Manager II"}
    assert data["now"]["version"] > 1
    assert {"key": "pm", "title": "Product Manager"} in data["old"]
    assert data["none"] is None
    events = data["person"]["careerHistory"]["events"]
    assert {"type": "PromotionRecorded", "toLevel": {"title": "Product Manager"}} in events


async def test_a_version_that_drops_a_level_nobody_is_on_is_published(
    client: httpx.AsyncClient,
) -> None:
    current = product_ladder(pm="Product Manager II")
    payload = await publish(client, without(current, "vp_product"))
    assert payload["errors"] == [], payload


def renamed(ladder: dict[str, Any], old: str, new: str, title: str) -> dict[str, Any]:
    levels = [dict(lv) for lv in ladder["levels"]]
    for level in levels:
        if level["key"] == old:
            level["key"], level["title"] = new, title
    return {**ladder, "levels": levels}


async def test_a_version_that_renames_an_occupied_level_moves_its_people_by_the_mapping(
    client: httpx.AsyncClient,
) -> None:
    person = (await hire(client, level="group_pm"))["personId"]
    new = renamed(
        without(product_ladder(pm="Product Manager II"), "vp_product"),
        "group_pm",
        "group_lead",
        "Group Lead",
    )
    wrong = await publish(
        client, {**new, "levelMapping": [{"fromLevel": "group_pm", "toLevel": "x"}]}
    )
    assert [(e["code"], e["field"]) for e in wrong["errors"]] == [
        ("VALIDATION_ERROR", "levelMapping")
    ]
    mapping = [{"fromLevel": "group_pm", "toLevel": "group_lead"}]
    payload = await publish(client, {**new, "levelMapping": mapping})
    assert payload["errors"] == [], payload
    assert "LevelMapped" in [e["type"] for e in payload["events"]]
    body = await gql(
        client,
        """query($id: ID!) {
          person(id: $id) {
            levelKey level { title }
            careerHistory { levelChanges { kind levelKey } events { type toLevel { title } } }
          }
        }""",
        {"id": person},
    )
    assert "errors" not in body, body
    found = body["data"]["person"]
    assert found["levelKey"] == "group_lead"
    assert found["level"] == {"title": "Group Lead"}
    changes = found["careerHistory"]["levelChanges"]
    assert changes[-1] == {"kind": "mapped", "levelKey": "group_lead"}
    events = found["careerHistory"]["events"]
    assert {
        "type": "PersonHired",
        "toLevel": {"title": "Group Product Manager / Product Lead"},
    } in events
    assert {"type": "LevelMapped", "toLevel": {"title": "Group Lead"}} in events


PAGE_OF_TRACK = """query($track: String!) {
  people(first: 50, track: $track) { nodes { id level { key title } } }
}"""


async def test_a_page_of_people_shows_the_titles_of_a_version_published_a_moment_ago(
    client: httpx.AsyncClient,
) -> None:
    ladder = ladder_input("page_titles", "Page Titles")
    assert (await publish(client, ladder))["errors"] == []
    person = await hire(client, track="page_titles", level="engineer", prior_years=3)
    before = await gql(client, PAGE_OF_TRACK, {"track": "page_titles"})
    assert before["data"]["people"]["nodes"] == [
        {"id": person["personId"], "level": {"key": "engineer", "title": "Software Engineer"}}
    ]
    for level in ladder["levels"]:
        if level["key"] == "engineer":
            level["title"] = "Engineer II"
    assert (await publish(client, ladder))["errors"] == []
    after = await gql(client, PAGE_OF_TRACK, {"track": "page_titles"})
    assert after["data"]["people"]["nodes"][0]["level"] == {
        "key": "engineer",
        "title": "Engineer II",
    }
