"""Print the schema's SDL, sorted, for ``schema.graphql``: ``python -m api.schema_export``.

``python -m api.schema_export --check [path]`` lists the breaking changes of the code's schema
against a committed SDL file (default ``schema.graphql``) and exits 1 when there are any.

The SDL does not depend on the settings (limits only affect requests), so the export uses
the defaults and never reads ``.env``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from graphql import (
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    lexicographic_sort_schema,
    print_schema,
)

from api import schema as api_schema
from api.settings import Settings


def graphql_schema() -> GraphQLSchema:
    """The graphql-core schema the API serves."""
    return api_schema.build_schema(Settings(_env_file=None))._schema


def export_sdl() -> str:
    return print_schema(lexicographic_sort_schema(graphql_schema())) + "\n"


def breaking_changes(old_sdl: str, new: GraphQLSchema | None = None) -> list[str]:
    """``"TYPE: description"`` for each change from ``old_sdl`` that breaks clients."""
    current = graphql_schema() if new is None else new
    return [
        f"{change.type.name}: {change.description}"
        for change in find_breaking_changes(build_schema(old_sdl), current)
    ]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "--check":
        path = Path(args[1] if len(args) > 1 else "schema.graphql")
        changes = breaking_changes(path.read_text(encoding="utf-8"))
        for change in changes:
            sys.stderr.write(f"{change}\n")
        return 1 if changes else 0
    sys.stdout.write(export_sdl())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
