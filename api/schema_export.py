"""Print the schema's SDL, sorted, for ``schema.graphql``: ``python -m api.schema_export``.

The SDL does not depend on the settings (limits only affect requests), so the export uses
the defaults and never reads ``.env``.
"""

from __future__ import annotations

import sys

from graphql import GraphQLSchema, lexicographic_sort_schema, print_schema

from api.schema import build_schema
from api.settings import Settings


def graphql_schema() -> GraphQLSchema:
    """The graphql-core schema the API serves."""
    return build_schema(Settings(_env_file=None))._schema


def export_sdl() -> str:
    return print_schema(lexicographic_sort_schema(graphql_schema())) + "\n"


def main() -> None:
    sys.stdout.write(export_sdl())


if __name__ == "__main__":
    main()
