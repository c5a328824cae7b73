"""The calculated cost of a query, bounded before it runs (as Shopify's GraphQL API does).

Depth, alias and page caps each bound one dimension; together they still allow
``people(first: 100) { careerHistory timeline mentees ... }``, hundreds of milliseconds and
hundreds of kilobytes per request. The cost counts what a query asks the server to
produce: every object field costs 1, multiplied by how many times it can occur. A field
with a ``first`` argument occurs up to ``first`` times (``max_page_size`` when absent); its
``edges``/``nodes`` lists are already counted by that. Any other list of objects counts
``LIST_ESTIMATE`` items. Scalars and enums cost nothing. Introspection costs nothing.

The cost is computed once per distinct (document, operation, page sizes) and reported in
the response's ``extensions.cost``; above ``max_cost`` the request is refused with
``COST_LIMIT_EXCEEDED`` and nothing runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
)

COST_LIMIT_EXCEEDED = "COST_LIMIT_EXCEEDED"
LIST_ESTIMATE = 10
"""How many items a plain list of objects (a career's events, a ladder's levels) counts."""


def _is_list(type_: GraphQLOutputType) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


class CostCalculator:
    """Cost of operations of one document against one schema."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
        default_page: int,
    ) -> None:
        self.schema = schema
        self.variables = variables or {}
        self.default_page = default_page
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._memo: dict[tuple[str, str, bool], int] = {}
        self._visiting: set[str] = set()
        self.read: set[str] = set()
        """The variables the cost depends on (those giving a page size)."""

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        return self._selections(operation.selection_set, root, in_connection=False)

    def _selections(
        self, selection_set: SelectionSetNode, parent: Any, *, in_connection: bool
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, in_connection)
            elif isinstance(selection, InlineFragmentNode):
                on = parent
                if selection.type_condition is not None:
                    on = self.schema.get_type(selection.type_condition.name.value) or parent
                total += self._selections(selection.selection_set, on, in_connection=in_connection)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._spread(selection.name.value, in_connection)
        return total

    def _spread(self, name: str, in_connection: bool) -> int:
        fragment = self.fragments.get(name)
        if fragment is None or name in self._visiting:  # cycles are a validation error
            return 0
        key = (name, fragment.type_condition.name.value, in_connection)
        if key not in self._memo:
            on = self.schema.get_type(fragment.type_condition.name.value)
            self._visiting.add(name)
            self._memo[key] = self._selections(
                fragment.selection_set, on, in_connection=in_connection
            )
            self._visiting.discard(name)
        return self._memo[key]

    def _field(self, node: FieldNode, parent: Any, in_connection: bool) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named) or node.selection_set is None:
            return 0
        page = self._first(node) if "first" in definition.args else None
        if page is not None:
            times = page
        elif _is_list(definition.type) and not in_connection:
            times = LIST_ESTIMATE
        else:
            times = 1
        inner = self._selections(node.selection_set, named, in_connection=page is not None)
        return times * (1 + inner)

    def _first(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(0, int(value.value))
            if isinstance(value, VariableNode):
                self.read.add(value.name.value)
                given = page_value(self.variables.get(value.name.value))
                if given is not None:
                    return max(0, given)
        return self.default_page


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    default_page: int,
) -> int:
    """The cost of the operation a request runs (0 if there is none to pick)."""
    return costed(schema, document, operation_name, variables, default_page)[0]


def costed(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    default_page: int,
) -> tuple[int, frozenset[str]]:
    """``query_cost``, and the names of the variables it depends on (a cache key's)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return 0, frozenset()
    calculator = CostCalculator(schema, document, variables, default_page)
    return calculator.operation(operations[0]), frozenset(calculator.read)


def page_value(value: object) -> int | None:
    """What a variable means to the cost: a page size, or ``None`` (the default page)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None
