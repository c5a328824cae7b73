"""The vendored GraphiQL assets are exactly the pinned npm files, and the page needs no host."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

from api.graphiql import ASSETS_DIR, MANIFEST, graphiql_page

# Pinned here as well as in the manifest: changing a version is a deliberate edit of both.
PINNED_PACKAGES = {
    "graphiql@3.8.3",
    "react@18.2.0",
    "react-dom@18.2.0",
    "@graphiql/plugin-explorer@1.0.2",
}
NOT_VENDORED = {"manifest.json", "index.html", "README.md"}


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def manifest() -> dict[str, dict[str, dict[str, object]]]:
    loaded = json.loads(MANIFEST.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_the_manifest_pins_the_expected_package_versions() -> None:
    entries = manifest()
    assert set(entries["packages"]) == PINNED_PACKAGES
    for name, entry in entries["files"].items():
        assert entry["package"] in PINNED_PACKAGES, name


def test_every_vendored_file_matches_its_pinned_integrity_hash() -> None:
    for name, entry in manifest()["files"].items():
        data = (ASSETS_DIR / name).read_bytes()
        assert len(data) == entry["bytes"], name
        assert sri(data) == entry["integrity"], name


def test_no_file_is_vendored_without_a_manifest_entry() -> None:
    present = {path.name for path in Path(ASSETS_DIR).iterdir() if path.is_file()}
    assert present - NOT_VENDORED == set(manifest()["files"])


def test_the_page_loads_only_vendored_files_with_their_integrity_hashes() -> None:
    page = graphiql_page()
    references = re.findall(r'(?:src|href)="([^"]+)"(?:\s+integrity="([^"]+)")?', page)
    files = manifest()["files"]
    loaded = [(url, integrity) for url, integrity in references if not url.startswith("data:")]
    assert len(loaded) == 6
    for url, integrity in loaded:
        assert url.startswith("static/graphiql/"), url
        name = url.removeprefix("static/graphiql/")
        assert integrity == files[name]["integrity"], url


def test_the_page_names_no_external_host() -> None:
    assert re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", graphiql_page()) is None
