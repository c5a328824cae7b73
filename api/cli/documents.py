"""``ladder documents add|list``: the trusted documents registry (``api.documents``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.errors import Exit, fail, guard, out

if TYPE_CHECKING:  # graphql and Strawberry load only for these commands, not every CLI run
    from api.documents import TrustedDocuments

documents = typer.Typer(
    help="Trusted documents: register GraphQL documents clients may send (by text or id).",
    no_args_is_help=True,
)

DocumentsFile = Annotated[
    Path | None,
    typer.Option(
        "--documents-file",
        help="The registry (default LADDER_DOCUMENTS_FILE, trusted-documents.json).",
        show_default=False,
    ),
]


def _registry_path(option: Path | None) -> Path:
    from api.settings import get_settings

    return option or Path(guard(get_settings).documents_file)


def _load(path: Path) -> TrustedDocuments:
    from api.documents import DocumentsFileError, TrustedDocuments

    try:
        return TrustedDocuments.load(path)
    except DocumentsFileError as exc:
        fail(str(exc), Exit.BAD_INPUT)


def _check(file: Path, text: str) -> None:
    """The document parses and is valid against this server's schema."""
    from graphql import GraphQLError, parse, validate

    from api.schema import build_schema  # the whole schema, loaded only for this command
    from api.settings import get_settings

    try:
        document = parse(text)
    except GraphQLError as exc:
        fail(f"{file}: {exc.message}", Exit.BAD_INPUT)
    schema = build_schema(guard(get_settings))
    errors = validate(schema._schema, document)
    if errors:
        fail(f"{file}: {errors[0].message}", Exit.BAD_INPUT)


@documents.command("add")
def add(
    files: Annotated[list[Path], typer.Argument(help="Files with GraphQL documents.")],
    documents_file: DocumentsFile = None,
) -> None:
    """Check each file against the schema and register its text (one document per file)."""
    path = _registry_path(documents_file)
    registry = _load(path)
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read {file}: {exc}", Exit.NOT_FOUND)
        _check(file, text)
        key, new = registry.add(text)
        out.print(f"{key} {file} ({'added' if new else 'already registered'})", markup=False)
    registry.save(path)


@documents.command("list")
def list_documents(documents_file: DocumentsFile = None) -> None:
    """Every registered document's id and its operations."""
    from graphql import ExecutableDefinitionNode, parse

    for key, text in _load(_registry_path(documents_file)).items():
        names = [
            d.name.value if isinstance(d, ExecutableDefinitionNode) and d.name else "anonymous"
            for d in parse(text).definitions
        ]
        out.print(f"{key} {', '.join(names)}", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(documents, name="documents", rich_help_panel="Run")
