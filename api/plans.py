"""Planned execution of queries: graphql-core's answer, without its per-field machinery.

graphql-core executes a selection field by field: for every field of every object it builds a
resolve info, looks the field up, checks whether the result is awaitable, and completes the
value by asking its type what it is. For a page of 50 people that is ~250 such steps per
request, most of a request's time. A query's *plan* does that work once per document: it
walks the validated operation against the schema and keeps, for every field, how to get its
value (an attribute read for a field without a resolver, the field's resolver otherwise) and
how to complete it (a leaf's serializer, an object's sub-plan, a list of either). Executing a
plan is then a loop over rows, level by level: every field of every object at one depth is
resolved before any deeper one, and everything awaitable at that depth is awaited together,
so DataLoaders batch as they do under graphql-core.

A plan answers only when graphql-core would answer without an error. Anything else — a
resolver that raises, a ``null`` for a non-null field, a value of the wrong type — makes the
plan give up (:class:`Fallback`) and graphql-core executes the operation from the start, so
errors, their paths and partial results are exactly graphql-core's. Reads have no side
effects and the request's DataLoaders keep what they loaded, so the second execution is
cheap. Documents a plan does not cover (directives, abstract types, introspection, nested
lists, mutations and subscriptions) are executed by graphql-core from the start.
"""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from inspect import isawaitable, isfunction
from operator import attrgetter
from typing import Any, cast

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from graphql.utilities import get_operation_ast
from strawberry.execution import optimized_is_awaitable
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

from api.fanout import SharedEventExecutor

KEPT_PLANS = 512
"""Plans remembered per process (the parse cache keeps their documents alive)."""


VERIFY_PLANS = os.environ.get("LADDER_VERIFY_PLANS") == "1"
"""Check every planned answer against graphql-core's (the tests set it; twice the work)."""


class PlanMismatchError(AssertionError):
    """A plan answered differently from graphql-core (a bug in this module)."""


class Fallback(Exception):
    """The plan cannot give graphql-core's answer: graphql-core executes the operation."""


@dataclass(frozen=True)
class Shape:
    """A field's return type, unwrapped: ``[Item!]!`` is ``Shape(True, True, True)``."""

    non_null: bool
    is_list: bool
    items_non_null: bool


@dataclass
class PlannedField:
    key: str
    """The response key (alias or name)."""
    node: FieldNode
    parent_type: GraphQLObjectType
    field_def: GraphQLField | None
    """``None`` for ``__typename``."""
    shape: Shape
    get: Callable[[Any], Any] | None
    """An attribute read, for a field without a resolver (no info, no arguments)."""
    serialize: Callable[[Any], Any] | None
    """A leaf's serializer; ``None`` for objects."""
    plain_strings: bool
    """A ``String`` leaf: a ``str`` value is its own serialization."""
    children: Plan | None
    """An object's plan."""
    is_type_of: Callable[[Any, Any], Any] | None
    """The object type's own check of a value (graphql-core asks it too, when it has one)."""
    origin: type | None = None
    """The Python class of the object type (Strawberry's ``origin``)."""


@dataclass
class Plan:
    """The fields of one selection set on one object type, in response order."""

    fields: list[PlannedField] = field(default_factory=list)


def _shape(return_type: GraphQLOutputType) -> tuple[Shape, Any] | None:
    non_null = isinstance(return_type, GraphQLNonNull)
    inner: Any = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
    if not isinstance(inner, GraphQLList):
        return Shape(non_null, False, False), inner
    item: Any = inner.of_type
    items_non_null = isinstance(item, GraphQLNonNull)
    named = item.of_type if isinstance(item, GraphQLNonNull) else item
    if isinstance(named, GraphQLList | GraphQLNonNull):
        return None  # lists of lists: graphql-core
    return Shape(non_null, True, items_non_null), named


def _strawberry_field(field_def: GraphQLField) -> Any:
    return (field_def.extensions or {}).get("strawberry-definition")


def _getter(field_def: GraphQLField) -> Callable[[Any], Any] | None:
    """A direct read of a Strawberry field without extensions: the attribute of a field
    without a resolver, or the method of a resolver that takes nothing but ``self`` (what
    Strawberry's wrapper would call, minus building an info and arguments it does not use)."""
    definition = _strawberry_field(field_def)
    if definition is None or definition.extensions:
        return None
    resolver = definition.base_resolver
    if resolver is None:
        if not getattr(field_def.resolve, "_is_default", False):
            return None
        return attrgetter(definition.python_name)
    method = resolver.wrapped_func
    if not isfunction(method) or resolver.is_async or resolver.arguments:
        return None
    parameters = list(resolver.signature.parameters.values())
    if len(parameters) != 1 or resolver.self_parameter is not parameters[0]:
        return None
    return cast("Callable[[Any], Any]", method)


class _Planner:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.schema = schema
        self.fragments = fragments

    def plan(self, parent: GraphQLObjectType, selection_set: SelectionSetNode) -> Plan | None:
        plan = Plan()
        seen: set[str] = set()
        if not self._collect(parent, selection_set, plan, seen):
            return None
        return plan

    def _collect(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode,
        plan: Plan,
        seen: set[str],
    ) -> bool:
        for selection in selection_set.selections:
            if selection.directives:
                return False
            if isinstance(selection, FieldNode):
                planned = self._field(parent, selection)
                if planned is None or planned.key in seen:
                    return False  # a key selected twice is merged by graphql-core
                seen.add(planned.key)
                plan.fields.append(planned)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is not None and condition.name.value != parent.name:
                    return False
                if not self._collect(parent, selection.selection_set, plan, seen):
                    return False
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None or fragment.variable_definitions:
                    return False
                if fragment.type_condition.name.value != parent.name or fragment.directives:
                    return False
                if not self._collect(parent, fragment.selection_set, plan, seen):
                    return False
                continue
            return False
        return True

    def _field(self, parent: GraphQLObjectType, node: FieldNode) -> PlannedField | None:
        name = node.name.value
        key = node.alias.value if node.alias else name
        if name == "__typename":
            shape = Shape(True, False, False)
            return PlannedField(key, node, parent, None, shape, None, None, True, None, None)
        if name.startswith("__"):
            return None  # introspection
        field_def = parent.fields.get(name)
        if field_def is None:
            return None
        unwrapped = _shape(field_def.type)
        if unwrapped is None:
            return None
        shape, named = unwrapped
        getter = None if node.arguments else _getter(field_def)
        if isinstance(named, GraphQLScalarType | GraphQLEnumType):
            if node.selection_set is not None:
                return None
            plain = named is GraphQLString
            return PlannedField(
                key, node, parent, field_def, shape, getter, named.serialize, plain, None, None
            )
        if not isinstance(named, GraphQLObjectType) or node.selection_set is None:
            return None  # interfaces and unions: graphql-core resolves their types
        children = self.plan(named, node.selection_set)
        if children is None:
            return None
        check = named.is_type_of
        definition = (named.extensions or {}).get("strawberry-definition")
        origin = getattr(definition, "origin", None)
        return PlannedField(
            key, node, parent, field_def, shape, getter, None, False, children, check, origin
        )


def plan_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> Plan | None:
    """The plan of a query, ``None`` when graphql-core must execute it."""
    if operation.operation is not OperationType.QUERY or operation.directives:
        return None
    root = schema.query_type
    if root is None:
        return None
    return _Planner(schema, fragments).plan(root, operation.selection_set)


class Plans:
    """Plans by operation (the parse cache hands the same document object back for the same
    text, so the operation node's identity is the key; the node is kept to check it)."""

    def __init__(self, kept: int = KEPT_PLANS) -> None:
        self.kept = kept
        self._plans: OrderedDict[int, tuple[OperationDefinitionNode, Plan | None]] = OrderedDict()

    def get(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
    ) -> Plan | None:
        key = id(operation)
        entry = self._plans.get(key)
        if entry is not None and entry[0] is operation:
            self._plans.move_to_end(key)
            return entry[1]
        plan = plan_operation(schema, operation, fragments)
        self._plans[key] = (operation, plan)
        if len(self._plans) > self.kept:
            self._plans.popitem(last=False)
        return plan


PLANS = Plans()


class _Run:
    """One execution of a plan: resolve infos and arguments are made once per planned field."""

    def __init__(self, executor: SharedEventExecutor) -> None:
        self.executor = executor
        self._prepared: dict[int, tuple[Any, dict[str, Any]]] = {}

    def _prepare(self, planned: PlannedField) -> tuple[Any, dict[str, Any]]:
        found = self._prepared.get(id(planned))
        if found is not None:
            return found
        executor = self.executor
        field_def = planned.field_def
        if field_def is None:
            raise Fallback
        path = Path(None, planned.key, planned.parent_type.name)
        info = executor.build_resolve_info(field_def, [planned.node], planned.parent_type, path)
        args = (
            get_argument_values(
                field_def,
                planned.node,
                executor.variable_values,
                None,
                executor.hide_suggestions,
            )
            if field_def.args or planned.node.arguments
            else {}
        )
        prepared = (info, args)
        self._prepared[id(planned)] = prepared
        return prepared

    async def selection(self, plan: Plan, sources: Sequence[Any]) -> list[dict[str, Any]]:
        """The results of ``plan`` on each of ``sources`` (objects of one type)."""
        fields = plan.fields
        values: list[list[Any]] = []
        pending: list[tuple[list[Any], int, Any]] = []
        try:
            for planned in fields:
                column = self._resolve(planned, sources, pending)
                values.append(column)
        except BaseException:
            _close(pending)
            raise
        if len(pending) == 1:  # awaited in place: no task, no extra turns of the loop
            column, index, awaitable = pending[0]
            try:
                column[index] = await awaitable
            except Exception as exc:
                raise Fallback from exc
        elif pending:
            done = await asyncio.gather(*(p[2] for p in pending), return_exceptions=True)
            for (column, index, _), value in zip(pending, done, strict=True):
                if isinstance(value, BaseException):
                    raise Fallback from value
                column[index] = value
        results: list[dict[str, Any]] = [{} for _ in sources]
        for planned, column in zip(fields, values, strict=True):
            await self._complete(planned, column, results)
        return results

    def _resolve(
        self,
        planned: PlannedField,
        sources: Sequence[Any],
        pending: list[tuple[list[Any], int, Any]],
    ) -> list[Any]:
        if planned.field_def is None:  # __typename
            return [planned.parent_type.name] * len(sources)
        get = planned.get
        if get is not None:
            column: list[Any]
            try:
                column = [get(source) for source in sources]
            except Exception as exc:
                raise Fallback from exc
            if type(get) is not attrgetter:  # a method: it may hand back an awaitable
                pending.extend((column, i, v) for i, v in enumerate(column) if isawaitable(v))
            return column
        info, args = self._prepare(planned)
        resolve = planned.field_def.resolve
        if resolve is None:
            raise Fallback
        column = []
        for index, source in enumerate(sources):
            try:
                value = resolve(source, info, **args)
            except Exception as exc:
                raise Fallback from exc
            if isawaitable(value):
                pending.append((column, index, value))
            column.append(value)
        return column

    async def _complete(
        self, planned: PlannedField, column: list[Any], results: list[dict[str, Any]]
    ) -> None:
        key = planned.key
        shape = planned.shape
        if planned.children is None:
            for result, value in zip(results, column, strict=True):
                result[key] = self._leaf(planned, shape, value)
            return
        # Objects: every object of this field, across every source, in one deeper selection.
        objects: list[Any] = []
        for value in column:
            if value is None:
                if shape.non_null:
                    raise Fallback
                continue
            if shape.is_list:
                if isinstance(value, str | bytes | dict) or not hasattr(value, "__iter__"):
                    raise Fallback
                for item in value:
                    if item is None:
                        if shape.items_non_null:
                            raise Fallback
                        continue
                    objects.append(item)
            else:
                objects.append(value)
        is_type_of = planned.is_type_of
        if is_type_of is not None:
            exact = planned.origin
            for item in objects:
                # An instance of the type's own class that was not cast is one of it
                # (Strawberry's check, without its call); anything else is asked.
                if type(item) is exact and getattr(item, TYPE_CAST_ATTRIBUTE, None) is None:
                    continue
                if is_type_of(item, None) is not True:
                    raise Fallback
        completed = iter(await self.selection(planned.children, objects) if objects else ())
        for result, value in zip(results, column, strict=True):
            if value is None:
                result[key] = None
            elif shape.is_list:
                result[key] = [None if item is None else next(completed) for item in value]
            else:
                result[key] = next(completed)

    def _leaf(self, planned: PlannedField, shape: Shape, value: Any) -> Any:
        if value is None:
            if shape.non_null:
                raise Fallback
            return None
        if not shape.is_list:
            return self._scalar(planned, value)
        if isinstance(value, str | bytes | dict) or not hasattr(value, "__iter__"):
            raise Fallback
        items: list[Any] = []
        for item in value:
            if item is None:
                if shape.items_non_null:
                    raise Fallback
                items.append(None)
            else:
                items.append(self._scalar(planned, item))
        return items

    @staticmethod
    def _scalar(planned: PlannedField, value: Any) -> Any:
        if planned.plain_strings and type(value) is str:
            return value
        serialize = planned.serialize
        if serialize is None:  # __typename
            return value
        try:
            serialized = serialize(value)
        except Exception as exc:
            raise Fallback from exc
        if serialized is None:
            raise Fallback
        return serialized


def _close(pending: list[tuple[list[Any], int, Any]]) -> None:
    """Close coroutines a plan gave up before awaiting (no "never awaited" warnings)."""
    for _, _, awaitable in pending:
        close = getattr(awaitable, "close", None)
        if callable(close):
            close()
        elif isinstance(awaitable, asyncio.Future):
            awaitable.cancel()


class PlannedQueryExecutor(SharedEventExecutor):
    """The schema's executor: a query with a plan runs it; anything else (and a plan that
    gives up) runs on graphql-core."""

    plans: Plans = PLANS

    def _plan(self) -> Plan | None:
        operation = self.operation
        if (
            operation.operation is not OperationType.QUERY
            or self.abort_signal is not None
            or (self.middleware_manager is not None and self.middleware_manager.middlewares)
        ):
            return None
        return self.plans.get(self.schema, operation, self.fragment_definitions)

    def execute_operation(self, serially: bool | None = None) -> Any:
        plan = self._plan()
        if plan is None:
            return super().execute_operation(serially)
        return self._planned(plan, serially)

    async def planned_data(self) -> dict[str, Any] | None:
        """The operation's data from its plan, or ``None`` when it has no plan or the plan
        gave up: the caller then executes it the usual way (``answer_planned``)."""
        plan = self._plan()
        return None if plan is None else (await self._run(plan, None))[0]

    async def _planned(self, plan: Plan, serially: bool | None) -> Any:
        data, expected = await self._run(plan, serially)
        if data is None:
            return expected if expected is not None else await self._graphql_core(serially)
        return self.finish(self.build_response(data))

    async def _run(self, plan: Plan, serially: bool | None) -> tuple[dict[str, Any] | None, Any]:
        """The plan's data (``None``: it gave up) and, with ``VERIFY_PLANS``, graphql-core's
        result it was checked against."""
        expected = await self._graphql_core(serially) if VERIFY_PLANS else None
        try:
            results = await _Run(self).selection(plan, [self.root_value])
        except Exception:  # Fallback, or anything graphql-core reports as a field error
            return None, expected
        if expected is not None:
            await self._verify(results[0], expected, serially)
        return results[0], expected

    async def _graphql_core(self, serially: bool | None) -> Any:
        result = super().execute_operation(serially)
        return await result if self.is_awaitable(result) else result

    async def _verify(self, planned: Any, expected: Any, serially: bool | None) -> None:
        """Refuse a plan's answer that differs from graphql-core's (``LADDER_VERIFY_PLANS=1``:
        the test suite runs every query both ways). An answer that changes from one execution
        to the next (a checkpoint signed now) is compared only when graphql-core's second
        answer equals its first."""
        mine, theirs = _coded(planned, False), _coded(expected.data, bool(expected.errors))
        if mine == theirs:
            return
        again = await self._graphql_core(serially)
        if _coded(again.data, bool(again.errors)) != theirs:
            return  # not deterministic: nothing to compare
        raise PlanMismatchError(
            f"planned execution answered {mine[:2000]!r}, graphql-core {theirs[:2000]!r}"
        )


@dataclass(frozen=True, slots=True)
class DirectRequest:
    """A valid document's request, as the view hands it over for direct execution."""

    schema: GraphQLSchema
    document: DocumentNode
    operation_name: str | None
    variables: dict[str, Any] | None
    context: Any
    operation_extensions: dict[str, Any] | None

    def executor(self, kind: OperationType) -> PlannedQueryExecutor | None:
        """The executor of the request's operation when it is of ``kind`` and its
        variables coerce (the operation's type is checked before any variable is)."""
        operation = get_operation_ast(self.document, self.operation_name)
        if operation is None or operation.operation is not kind:
            return None
        built = PlannedQueryExecutor.build(
            self.schema,
            self.document,
            None,
            self.context,
            self.variables,
            self.operation_name,
            is_awaitable=cast("Any", optimized_is_awaitable),
            operation_extensions=self.operation_extensions,
        )
        return None if isinstance(built, list) else cast("PlannedQueryExecutor", built)


async def answer_planned(request: DirectRequest) -> dict[str, Any] | None:
    """The data of a valid document's query when its plan answers it, without the schema's
    per-request machinery; ``None`` for anything else (a mutation, no plan, variables that
    do not coerce, a plan that gave up): the caller executes the request the usual way,
    which reports what went wrong exactly as before. Nothing was written either way."""
    executor = request.executor(OperationType.QUERY)
    return None if executor is None else await executor.planned_data()


async def execute_mutation(request: DirectRequest) -> GraphQLExecutionResult | None:
    """graphql-core's execution of a valid document's mutation, called as Strawberry's
    ``Schema.execute`` calls it, without the schema's per-request machinery around it (the
    caller shapes the errors as ``api.errors.ErrorShaping`` does); ``None`` for anything
    but a mutation, and for variables that do not coerce (nothing ran: the caller
    executes the request the usual way, which reports them)."""
    executor = request.executor(OperationType.MUTATION)
    if executor is None:
        return None
    result = executor.execute_operation()
    if executor.is_awaitable(result):
        result = await result
    return cast("GraphQLExecutionResult", result)


def _coded(data: Any, errors: bool) -> bytes:
    return orjson.dumps({"data": data, "errors": errors})
