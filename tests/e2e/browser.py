"""A headless Chromium driven over the W3C WebDriver protocol (chromedriver + httpx).

``headless_chromium()`` starts ``chromedriver`` with Debian's ``chromium`` and yields a
:class:`Browser`; the test is skipped when either program is missing, and fails instead when
``CI=true``. The browser resolves no host but 127.0.0.1, so a page that needs the internet
shows it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.support import in_ci

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference
CTRL = "\ue009"
BACKSPACE = "\ue003"


def _program(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_browser() -> tuple[str, str]:
    """Chromium and chromedriver, or skip (fail when ``CI=true``) naming what is missing."""
    chromium = os.environ.get("CHROMIUM") or _program("chromium", "chromium-browser")
    driver = os.environ.get("CHROMEDRIVER") or _program("chromedriver")
    if chromium and driver:
        return chromium, driver
    reason = (
        "headless browser tests need chromium and chromedriver on PATH "
        "(Debian: apt-get install chromium chromium-driver)"
    )
    if in_ci():
        pytest.fail(reason + " (CI=true: browser tests are required)")
    pytest.skip(reason)


class Browser:
    """One WebDriver session: just the commands the tests need."""

    def __init__(self, http: httpx.Client, session: str) -> None:
        self.http = http
        self.session = session

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, f"/session/{self.session}{path}", json=body)
        value = response.json()["value"]
        if response.status_code != 200:
            raise RuntimeError(f"WebDriver {method} {path}: {value}")
        return value

    def open(self, url: str) -> None:
        self._call("POST", "/url", {"url": url})

    def run(self, script: str, *args: Any) -> Any:
        """Run ``script`` (a function body; ``return`` its result) in the page."""
        return self._call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = self._call("POST", "/element", {"using": "css selector", "value": css})
                return str(found[ELEMENT])
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def click(self, element: str) -> None:
        self._call("POST", f"/element/{element}/click", {})

    def press(self, *keys: str, holding: str | None = None) -> None:
        """Type ``keys`` into the focused element, one key at a time, like a person."""
        actions: list[dict[str, str]] = []
        if holding:
            actions.append({"type": "keyDown", "value": holding})
        for key in keys:
            actions += [{"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]
        if holding:
            actions.append({"type": "keyUp", "value": holding})
        keyboard = {"type": "key", "id": "keyboard", "actions": actions}
        self._call("POST", "/actions", {"actions": [keyboard]})
        self._call("DELETE", "/actions")

    def wait_for(self, script: str, timeout: float = 15.0) -> Any:
        """Poll ``script`` until it returns something truthy; return that."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.run(script)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"still falsy after {timeout}s: {script}")
            time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def headless_chromium() -> Iterator[Browser]:
    chromium, driver = require_browser()
    port = _free_port()
    process = subprocess.Popen(
        [driver, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60.0) as http:
            deadline = time.monotonic() + 15
            while True:
                try:
                    if http.get("/status").json()["value"]["ready"]:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("chromedriver did not start")
                time.sleep(0.1)
            options = {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                    # Offline: every host but the test server fails to resolve.
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                ],
            }
            capabilities = {"browserName": "chrome", "goog:chromeOptions": options}
            created = http.post("/session", json={"capabilities": {"alwaysMatch": capabilities}})
            if created.status_code != 200:
                raise RuntimeError(f"chromium did not start: {created.text}")
            browser = Browser(http, created.json()["value"]["sessionId"])
            try:
                yield browser
            finally:
                http.delete(f"/session/{browser.session}")
    finally:
        process.terminate()
        process.wait(10)
