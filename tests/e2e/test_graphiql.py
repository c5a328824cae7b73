"""GraphiQL served from the package: its assets over HTTP, and the page in headless Chromium
with no host but the server reachable."""

from __future__ import annotations

import json

import httpx

from tests.e2e.browser import BACKSPACE, CTRL, headless_chromium
from tests.e2e.conftest import LiveServer, StartServer, make_settings

QUERY = '{ levels(track: "product") { rank title } }'
EDITOR = ".graphiql-query-editor .CodeMirror"
RESPONSE = ".graphiql-response .CodeMirror"


def test_graphiql_runs_a_query_typed_into_its_editor_without_internet(
    live_server: LiveServer,
) -> None:
    with headless_chromium() as browser:
        browser.open(live_server.graphql_url)
        browser.find(EDITOR, timeout=20)
        browser.click(browser.find(EDITOR))
        browser.press("a", holding=CTRL)
        browser.press(BACKSPACE)
        browser.press(*QUERY)
        typed = browser.run(f"return document.querySelector('{EDITOR}').CodeMirror.getValue()")
        assert typed == QUERY
        browser.click(browser.find(".graphiql-execute-button"))
        text = browser.wait_for(
            f"const r = document.querySelector('{RESPONSE}');"
            " const v = r && r.CodeMirror.getValue(); return v && v.includes('rank') && v;"
        )
        levels = json.loads(text)["data"]["levels"]
        assert levels[0] == {"rank": 1, "title": "Associate Product Manager"}

        loaded = browser.run(
            "return performance.getEntriesByType('resource').map(e => e.name)"
            ".concat([location.href])"
        )
        assert all(url.startswith(live_server.base_url) for url in loaded), loaded
        assert any(url.endswith("static/graphiql/graphiql.min.js") for url in loaded)


async def test_the_page_and_its_assets_come_from_the_server(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert 'src="static/graphiql/graphiql.min.js"' in page.text
    script = await client.get("/static/graphiql/graphiql.min.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert len(script.content) > 1_000_000
    style = await client.get("/static/graphiql/graphiql.min.css")
    assert style.headers["content-type"].startswith("text/css")


async def test_the_assets_are_not_served_when_graphiql_is_off(start_server: StartServer) -> None:
    server = start_server(settings=make_settings(graphiql=False))
    async with server.client() as client:
        response = await client.get("/static/graphiql/graphiql.min.js")
    assert response.status_code == 404
