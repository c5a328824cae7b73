"""The mutations' direct resolvers (``api.mutation_calls``) hand their resolvers exactly
the arguments Strawberry's own conversion makes, for every mutation of the schema, with
every input field given and with only the required ones."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    coerce_input_value,
)
from strawberry.types.arguments import convert_arguments

from api import mutation_calls
from api.schema import build_schema
from api.settings import Settings

SCHEMA = build_schema(Settings(_env_file=None, token_secret="unit-secret-" + "x" * 40))
SAMPLES: dict[str, object] = {
    "String": "text",
    "Int": 3,
    "Float": 1.5,
    "Boolean": True,
    "ID": "id-1",
    "Date": "2024-01-02",
    "DateTime": "2024-01-02T03:04:05+00:00",
    "JSON": {"a": [1, "b"]},
}


def _raw(type_: GraphQLInputType, *, everything: bool) -> Any:
    """A JSON value of ``type_``: every input field, or only the required ones."""
    if isinstance(type_, GraphQLNonNull):
        return _raw(type_.of_type, everything=everything)
    if isinstance(type_, GraphQLList):
        return [_raw(type_.of_type, everything=everything)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLScalarType):
        return SAMPLES.get(type_.name, "text")
    assert isinstance(type_, GraphQLInputObjectType)
    return {
        name: _raw(f.type, everything=everything)
        for name, f in type_.fields.items()
        if everything or isinstance(f.type, GraphQLNonNull)
    }


MUTATIONS = sorted(SCHEMA._schema.mutation_type.fields.items())  # type: ignore[union-attr]


@pytest.mark.parametrize("everything", [True, False])
@pytest.mark.parametrize(("name", "field_def"), MUTATIONS, ids=[n for n, _ in MUTATIONS])
def test_a_mutations_arguments_convert_as_strawberry_converts_them(
    name: str, field_def: Any, everything: bool
) -> None:
    definition = field_def.extensions["strawberry-definition"]
    converters = mutation_calls.Converters(SCHEMA.schema_converter.scalar_registry, SCHEMA.config)
    arguments = converters.arguments(definition)
    assert arguments is not None, f"{name} keeps Strawberry's wrapper"
    given = {
        arg: coerce_input_value(_raw(a.type, everything=everything), a.type)
        for arg, a in field_def.args.items()
        if everything or isinstance(a.type, GraphQLNonNull)
    }
    theirs = convert_arguments(
        given, definition.arguments, SCHEMA.schema_converter.scalar_registry, SCHEMA.config
    )
    mine = {p: convert(given[g]) for g, p, convert in arguments if g in given}
    assert mine == theirs
    assert [type(v) for v in mine.values()] == [type(v) for v in theirs.values()]


def test_every_mutation_of_the_schema_has_a_direct_resolver() -> None:
    schema = build_schema(Settings(_env_file=None, token_secret="unit-secret-" + "x" * 40))
    assert mutation_calls.install(schema) == len(MUTATIONS)
