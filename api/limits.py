"""Request limits: depth, aliases and tokens, bounded parse/validation caches, introspection.

Every breach is a validation or parse error with a stable ``extensions.code``:
``DEPTH_LIMIT_EXCEEDED``, ``ALIAS_LIMIT_EXCEEDED``, ``TOKEN_LIMIT_EXCEEDED`` (added by
``api.errors``) and ``INTROSPECTION_DISABLED``. The body size cap (413) lives in
``api.middleware``.

We use our own extension rather than Strawberry's ``ParserCache``/``ValidationCache``/
``MaxAliasesLimiter``/``QueryDepthLimiter`` because (1) their caches are module-global and
keyed by the document object, (2) ``MaxAliasesLimiter`` builds a new rule class per instance,
which defeats a validation cache when extensions are created per request, and (3) we need
graphql-core's ``hide_suggestions`` and stable error codes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Generic, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationRule,
    parse,
    specified_rules,
    validate,
)
from graphql.language.visitor import SKIP, VisitorAction
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types.graphql import OperationType

from api.cost import COST_LIMIT_EXCEEDED, costed, page_value, query_cost
from domain.text import unstorable

DEPTH_LIMIT_EXCEEDED = "DEPTH_LIMIT_EXCEEDED"
ALIAS_LIMIT_EXCEEDED = "ALIAS_LIMIT_EXCEEDED"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
INVALID_CHARACTER = "INVALID_CHARACTER"

Fragments = Mapping[str, FragmentDefinitionNode]

STANDARD_RULES: tuple[type[ASTValidationRule], ...] = tuple(specified_rules)
"""The rules Strawberry validates with by default (the validation cache's key has them)."""


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def selection_depth(
    selection_set: SelectionSetNode,
    fragments: Fragments,
    memo: dict[str, int] | None = None,
    visiting: frozenset[str] = frozenset(),
) -> int:
    """Nesting depth of fields below ``selection_set`` (introspection fields not counted).

    Fragment depths are memoised, so documents that spread fragments many times cost linear
    time, and fragment cycles (reported by the standard rules) count as zero.
    """
    memo = {} if memo is None else memo
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue
            depth = 1
            if selection.selection_set is not None:
                depth += selection_depth(selection.selection_set, fragments, memo, visiting)
        elif isinstance(selection, InlineFragmentNode):
            depth = selection_depth(selection.selection_set, fragments, memo, visiting)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if name in memo:
                depth = memo[name]
            elif fragment is None or name in visiting:
                depth = 0
            else:
                depth = selection_depth(fragment.selection_set, fragments, memo, visiting | {name})
                memo[name] = depth
        else:  # pragma: no cover - graphql-core has no other selection kinds
            depth = 0
        deepest = max(deepest, depth)
    return deepest


def alias_count(
    selection_set: SelectionSetNode,
    fragments: Fragments,
    memo: dict[str, int] | None = None,
    visiting: frozenset[str] = frozenset(),
) -> int:
    """Aliased fields below ``selection_set``, counting a fragment once per spread."""
    memo = {} if memo is None else memo
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += 1 if selection.alias is not None else 0
            if selection.selection_set is not None:
                total += alias_count(selection.selection_set, fragments, memo, visiting)
        elif isinstance(selection, InlineFragmentNode):
            total += alias_count(selection.selection_set, fragments, memo, visiting)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if name not in memo:
                if fragment is None or name in visiting:
                    continue
                memo[name] = alias_count(fragment.selection_set, fragments, memo, visiting | {name})
            total += memo[name]
    return total


def depth_limit_rule(max_depth: int) -> type[ASTValidationRule]:
    class DepthLimitRule(ValidationRule):
        def enter_operation_definition(
            self, node: OperationDefinitionNode, *_args: Any
        ) -> VisitorAction:
            depth = selection_depth(node.selection_set, _fragments(self.context.document))
            if depth > max_depth:
                self.report_error(
                    GraphQLError(
                        f"The query is {depth} levels deep; the maximum is {max_depth}.",
                        node,
                        extensions={"code": DEPTH_LIMIT_EXCEEDED, "limit": max_depth},
                    )
                )
            return SKIP

    return DepthLimitRule


def alias_limit_rule(max_aliases: int) -> type[ASTValidationRule]:
    class AliasLimitRule(ValidationRule):
        def enter_operation_definition(
            self, node: OperationDefinitionNode, *_args: Any
        ) -> VisitorAction:
            count = alias_count(node.selection_set, _fragments(self.context.document))
            if count > max_aliases:
                self.report_error(
                    GraphQLError(
                        f"The query uses {count} aliases; the maximum is {max_aliases}.",
                        node,
                        extensions={"code": ALIAS_LIMIT_EXCEEDED, "limit": max_aliases},
                    )
                )
            return SKIP

    return AliasLimitRule


class StorableStringsRule(ValidationRule):
    """String literals in the document hold no NUL or unpaired surrogate (escapes such as
    ``\\u0000`` decode to them): no backend can store or compare those."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        found = unstorable(node.value)
        if found is not None:
            self.report_error(
                GraphQLError(
                    f"A string argument {found[1]}.",
                    node,
                    extensions={"code": INVALID_CHARACTER},
                )
            )


class NoIntrospectionRule(ValidationRule):
    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.name.value in ("__schema", "__type"):
            self.report_error(
                GraphQLError(
                    "Introspection is disabled on this server.",
                    node,
                    extensions={"code": INTROSPECTION_DISABLED},
                )
            )


V = TypeVar("V")


class _LRU(Generic[V]):
    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Any, V] = OrderedDict()

    def get(self, key: Any) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: Any, value: V) -> None:
        if self.maxsize <= 0:
            return
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


@dataclass
class RequestLimits:
    """The limits of one schema, with its own bounded parse and validation caches."""

    max_depth: int
    max_aliases: int
    max_tokens: int
    introspection: bool = True
    suggestions: bool = True
    parser_cache_size: int = 256
    validation_cache_size: int = 256
    max_cost: int = 3000
    default_page: int = 100
    rules: tuple[type[ASTValidationRule], ...] = field(init=False)

    def __post_init__(self) -> None:
        extra: list[type[ASTValidationRule]] = [
            MaybeNullValidationRule,
            OneOfInputValidationRule,
            depth_limit_rule(self.max_depth),
            alias_limit_rule(self.max_aliases),
            StorableStringsRule,
        ]
        if not self.introspection:
            extra.append(NoIntrospectionRule)
        self.rules = tuple(extra)
        max_tokens = self.max_tokens

        def _parse(query: str) -> DocumentNode:
            return parse(query, max_tokens=max_tokens)

        self._parse = lru_cache(maxsize=self.parser_cache_size)(_parse)
        self._validated: _LRU[tuple[GraphQLError, ...]] = _LRU(self.validation_cache_size)
        self._cost_inputs: _LRU[frozenset[str]] = _LRU(self.validation_cache_size)
        self._costs: _LRU[int] = _LRU(self.validation_cache_size)

    def parse(self, query: str) -> DocumentNode:
        """Parse (cached); raises ``GraphQLSyntaxError``, including for too many tokens."""
        return self._parse(query)

    def validate(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        base_rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        key = (query, base_rules)
        errors = self._validated.get(key)
        if errors is None:
            errors = tuple(
                validate(
                    schema,
                    document,
                    (*base_rules, *self.rules),
                    hide_suggestions=not self.suggestions,
                )
            )
            self._validated.put(key, errors)
        return list(errors)

    def admitted(
        self,
        schema: GraphQLSchema,
        query: str,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> tuple[DocumentNode, int] | None:
        """``(document, cost)`` of a request that passes every limit with the standard
        rules, from the caches; ``None`` when anything is refused (the schema's execution
        then reports it, with the extensions below)."""
        try:
            document = self.parse(query)
        except GraphQLError:
            return None
        if self.validate(schema, query, document, STANDARD_RULES):
            return None
        cost = self.cost(schema, query, document, operation_name, variables)
        return None if cost > self.max_cost else (document, cost)

    def cost(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> int:
        """The operation's cost, computed once per document, operation and page sizes
        given in variables (the only variables a cost depends on)."""
        given = variables or {}
        names = self._cost_inputs.get((query, operation_name))
        if names is not None:
            key = (query, operation_name, *sorted((n, page_value(given.get(n))) for n in names))
            found = self._costs.get(key)
            if found is not None:
                return found
        cost, names = costed(schema, document, operation_name, variables, self.default_page)
        self._cost_inputs.put((query, operation_name), names)
        key = (query, operation_name, *sorted((n, page_value(given.get(n))) for n in names))
        self._costs.put(key, cost)
        return cost

    def cost_extension(self, cost: int | None) -> dict[str, Any]:
        """A response's ``extensions`` for an operation of ``cost`` (none when free)."""
        return {"cost": {"requested": cost, "limit": self.max_cost}} if cost else {}


class LimitsExtension(SchemaExtension):
    """Applies :class:`RequestLimits`: token cap, cached parse, cached validation."""

    def __init__(self, limits: RequestLimits) -> None:
        super().__init__()
        self.limits = limits
        self.cost: int | None = None

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.limits.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            # On a syntax error, leave the document unset: Strawberry parses again (with the
            # same token cap) and reports the error the standard way, as a request error.
            with suppress(GraphQLError):
                context.graphql_document = self.limits.parse(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.query is not None:
            errors = self.limits.validate(
                context.schema._schema,
                context.query,
                context.graphql_document,
                context.validation_rules,
            )
            if not errors:
                errors = self._check_cost(context.graphql_document)
            context.pre_execution_errors = errors
        yield

    def _check_cost(self, document: DocumentNode) -> list[GraphQLError]:
        context = self.execution_context
        query = context.query
        if query is None:
            self.cost = query_cost(
                context.schema._schema,
                document,
                context.operation_name,
                context.variables,
                self.limits.default_page,
            )
        else:
            self.cost = self.limits.cost(
                context.schema._schema, query, document, context.operation_name, context.variables
            )
        limit = self.limits.max_cost
        if self.cost <= limit:
            return []
        message = f"The query costs {self.cost}; the maximum is {limit}."
        return [
            GraphQLError(
                message,
                extensions={"code": COST_LIMIT_EXCEEDED, "cost": self.cost, "limit": limit},
            )
        ]

    def get_results(self) -> dict[str, Any]:
        """``extensions.cost`` of queries and mutations that cost anything (a
        subscription's events do not repeat it)."""
        if not self.cost or self.execution_context.operation_type is OperationType.SUBSCRIPTION:
            return {}
        return self.limits.cost_extension(self.cost)
