"""GraphiQL served from the package: the page and its vendored assets, no other host.

The assets are GraphiQL, React and the explorer plugin, copied byte for byte from the npm
registry at the versions pinned in ``static/graphiql/manifest.json`` (which records each
file's source in its tarball and its SHA-384; ``tests/unit/api/test_graphiql_assets.py``
checks them). The page references them by relative URL under :data:`ASSETS_PATH`, with
the same hashes as ``integrity`` attributes, so the browser checks them too.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

ASSETS_DIR = Path(__file__).parent / "static" / "graphiql"
ASSETS_PATH = "/static/graphiql"  # the page at /graphql refers to "static/graphiql/..."
MANIFEST = ASSETS_DIR / "manifest.json"


@cache
def graphiql_page() -> str:
    """The GraphiQL page (read once per process)."""
    return (ASSETS_DIR / "index.html").read_text(encoding="utf-8")


def graphiql_assets() -> Mount:
    """The route serving the vendored files (the page itself is served by the view)."""
    return Mount(ASSETS_PATH, app=StaticFiles(directory=ASSETS_DIR), name="graphiql-assets")
