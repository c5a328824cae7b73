"""Depth, alias and token limits, the bounded caches and introspection switch."""

from __future__ import annotations

import pytest
from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    build_schema,
    parse,
    specified_rules,
)

from api.errors import TOKEN_LIMIT_EXCEEDED, shape_error
from api.limits import RequestLimits, alias_count, selection_depth

SCHEMA = build_schema(
    """
    type Query { level: Level, name: String }
    type Level { key: String, next: Level }
    """
)


def limits(**overrides: int | bool) -> RequestLimits:
    values: dict[str, int | bool] = {"max_depth": 3, "max_aliases": 2, "max_tokens": 100}
    values.update(overrides)
    return RequestLimits(**values)  # type: ignore[arg-type]


def validate(query: str, rules: RequestLimits) -> list[GraphQLError]:
    return rules.validate(SCHEMA, query, rules.parse(query), tuple(specified_rules))


def codes(errors: list[GraphQLError]) -> list[str]:
    return [str((e.extensions or {}).get("code")) for e in errors]


def test_depth_counts_nested_fields() -> None:
    document = parse("{ level { next { next { key } } } name }")
    op = document.definitions[0]
    assert isinstance(op, OperationDefinitionNode)
    assert selection_depth(op.selection_set, {}) == 4


def test_depth_ignores_introspection_fields() -> None:
    document = parse("{ __schema { types { fields { type { name } } } } name }")
    op = document.definitions[0]
    assert isinstance(op, OperationDefinitionNode)
    assert selection_depth(op.selection_set, {}) == 1


def test_a_query_deeper_than_the_limit_is_refused() -> None:
    assert validate("{ level { next { key } } }", limits()) == []
    errors = validate("{ level { next { next { key } } } }", limits())
    assert codes(errors) == ["DEPTH_LIMIT_EXCEEDED"]
    assert "4 levels deep" in errors[0].message


def test_depth_follows_fragments_and_survives_cycles() -> None:
    deep = "fragment F on Level { next { next { key } } } { level { ...F } }"
    assert codes(validate(deep, limits())) == ["DEPTH_LIMIT_EXCEEDED"]
    cyclic = "fragment F on Level { next { ...F } } { level { ...F } }"
    assert "DEPTH_LIMIT_EXCEEDED" not in codes(validate(cyclic, limits(max_depth=10)))


def test_aliases_are_counted_through_fragments() -> None:
    document = parse("fragment F on Level { a: key b: key } { level { ...F c: next { ...F } } }")
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    op = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    assert alias_count(op.selection_set, fragments) == 5


def test_too_many_aliases_are_refused() -> None:
    assert validate("{ a: name b: name }", limits()) == []
    assert codes(validate("{ a: name b: name c: name }", limits())) == ["ALIAS_LIMIT_EXCEEDED"]


def test_exponential_fragment_spreads_are_counted_quickly() -> None:
    fragments = " ".join(f"fragment F{i} on Level {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    query = f"{fragments} fragment F40 on Level {{ a: key }} {{ level {{ ...F0 }} }}"
    errors = validate(query, limits(max_tokens=10_000))
    assert "ALIAS_LIMIT_EXCEEDED" in codes(errors)


def test_too_many_tokens_fail_parsing_with_a_stable_code() -> None:
    query = "{ " + "name " * 200 + "}"
    with pytest.raises(GraphQLError) as raised:
        limits().parse(query)
    assert codes([shape_error(raised.value)]) == [TOKEN_LIMIT_EXCEEDED]


def test_introspection_can_be_switched_off() -> None:
    query = "{ __schema { queryType { name } } }"
    assert validate(query, limits(introspection=True)) == []
    assert codes(validate(query, limits(introspection=False))) == ["INTROSPECTION_DISABLED"]
    assert validate("{ __typename }", limits(introspection=False)) == []


def test_suggestions_can_be_switched_off() -> None:
    assert "Did you mean" in validate("{ nam }", limits())[0].message
    assert "Did you mean" not in validate("{ nam }", limits(suggestions=False))[0].message


def test_the_parser_cache_is_bounded_and_reused() -> None:
    rules = limits(parser_cache_size=2)
    first = rules.parse("{ name }")
    assert rules.parse("{ name }") is first
    rules.parse("{ level { key } }")
    rules.parse("{ a: name }")
    assert rules.parse("{ name }") is not first  # evicted


def test_the_validation_cache_is_bounded_and_returns_fresh_lists() -> None:
    rules = limits(validation_cache_size=1)
    errors = validate("{ nope }", rules)
    errors.clear()
    assert len(validate("{ nope }", rules)) == 1
    validate("{ name }", rules)
    assert len(rules._validated) == 1
