"""Subscription fan-out: one execution of a selection per event, shared by every subscriber
who would get the same result.

graphql-core executes a subscription's selection once per event *per subscriber*. Two
subscribers get the same result for the same event when they sent the same document and
operation, with the same variables, and see the same people (their *visibility class*,
:func:`api.streaming.visibility_class`). For those, :class:`SharedEventExecutor` runs the
selection once and hands the same result to each of them; the first subscriber to reach
an event executes it (in its own task, so its leaving does not cancel the others' result),
the others await that execution. What stays per subscriber is its own cursor on the log,
its rights check on each event (in the resolver, before the event reaches execution) and
the write to its socket: over WebSocket the result's payload is encoded once
(:func:`encoded_payload`) and each subscriber's frame is that payload with its own envelope
(``next`` or legacy ``data``, its operation id) around it.

A result is shared only for :data:`SHARE_SECONDS` after its execution: the fields of a
result read the read models *now* (``person``), so a subscriber that reaches the same event
much later (a replay) executes it again and sees what it would have seen alone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from contextvars import ContextVar
from inspect import isawaitable
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

import orjson
from graphql import (
    ExecutionResult,
    FieldNode,
    Node,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    print_ast,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.auth import Principal
from api.streaming import visibility_class

SHARE_SECONDS = 2.0
"""How long an event's result is handed to later subscribers of the same group."""
KEPT = 20_000
"""Results remembered at most (the oldest are forgotten first)."""

T = TypeVar("T", bound=type)

_SHAREABLE: set[type] = set()


def shareable(cls: T) -> T:
    """Mark a subscription's event type: its instances are a pure function of the log
    event at their ``position``, so a result executed on one serves every subscriber."""
    _SHAREABLE.add(cls)
    return cls


class SharedData(dict[str, Any]):
    """A shared result's ``data``; remembers its ``{"data": ...}`` payload once encoded."""

    __slots__ = ("payload",)

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.payload: str | None = None


def encoded_payload(payload: object) -> str | None:
    """The JSON of a ``{"data": ...}`` message payload holding a shared result, encoded
    once for every subscriber; ``None`` for any other payload (encode it as usual)."""
    if not isinstance(payload, dict) or len(payload) != 1:
        return None
    data = payload.get("data")
    if not isinstance(data, SharedData):
        return None
    if data.payload is None:
        try:
            data.payload = orjson.dumps({"data": data}).decode()
        except TypeError:
            return None
    return data.payload


class Counts:
    """Executions run, results reused, events fanned out by hubs (``api.hub``), for
    tests and benchmarks (read from any thread)."""

    executions = 0
    reused = 0
    hub_events = 0


COUNTS = Counts()

Key = tuple[Hashable, int]


class SharedExecutions:
    """Recent results by (group, event position), each kept for ``ttl`` seconds."""

    def __init__(self, ttl: float = SHARE_SECONDS, kept: int = KEPT) -> None:
        self.ttl = ttl
        self.kept = kept
        self._results: dict[Key, tuple[float, asyncio.Future[ExecutionResult]]] = {}

    def result(
        self,
        group: Hashable,
        position: int,
        execute: Callable[[], ExecutionResult | Awaitable[ExecutionResult]],
    ) -> asyncio.Future[ExecutionResult]:
        """The group's result for the event at ``position``: executed now, or reused."""
        now = time.monotonic()
        key = (group, position)
        found = self._results.get(key)
        if found is not None and now - found[0] <= self.ttl:
            COUNTS.reused += 1
            return asyncio.shield(found[1])
        if found is not None:
            del self._results[key]
        self._forget_old(now)
        COUNTS.executions += 1
        outcome = execute()
        future: asyncio.Future[ExecutionResult]
        if isawaitable(outcome):
            future = asyncio.ensure_future(_shared(outcome))
            future.add_done_callback(lambda done: self._failed(key, done))
        else:
            future = asyncio.get_running_loop().create_future()
            future.set_result(_as_shared(outcome))
        self._results[key] = (now, future)
        return asyncio.shield(future)

    def _forget_old(self, now: float) -> None:
        results = self._results
        while results:
            oldest = next(iter(results))
            at, future = results[oldest]
            if len(results) < self.kept and now - at <= self.ttl:
                return
            if not future.done():
                future.add_done_callback(_retrieve)
            del results[oldest]

    def _failed(self, key: Key, done: asyncio.Future[ExecutionResult]) -> None:
        if done.cancelled() or done.exception() is not None:
            current = self._results.get(key)
            if current is not None and current[1] is done:
                del self._results[key]


def _retrieve(done: asyncio.Future[ExecutionResult]) -> None:
    if not done.cancelled():
        done.exception()


async def _shared(outcome: Awaitable[ExecutionResult]) -> ExecutionResult:
    return _as_shared(await outcome)


def _as_shared(result: ExecutionResult) -> ExecutionResult:
    if isinstance(result.data, dict):
        return ExecutionResult(SharedData(result.data), result.errors, result.extensions)
    return result


_BY_LOOP: WeakKeyDictionary[asyncio.AbstractEventLoop, SharedExecutions] = WeakKeyDictionary()


def shared_executions() -> SharedExecutions:
    """The results of the running event loop (one per server)."""
    loop = asyncio.get_running_loop()
    found = _BY_LOOP.get(loop)
    if found is None:
        found = _BY_LOOP[loop] = SharedExecutions()
    return found


def _document_text(operation: OperationDefinitionNode, fragments: dict[str, Any]) -> str:
    if operation.loc is not None:
        return operation.loc.source.body
    return print_ast(operation) + "".join(print_ast(fragments[f]) for f in sorted(fragments))


def _variables_in(node: Node, found: set[str]) -> None:
    if isinstance(node, VariableNode):
        found.add(node.name.value)
        return
    for key in node.keys:
        value = getattr(node, key, None)
        for child in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(child, Node):
                _variables_in(child, found)


def selection_variables(operation: OperationDefinitionNode, fragments: dict[str, Any]) -> set[str]:
    """The variables an event's execution can depend on: all but those only in the
    arguments of the root field (they choose the events, e.g. ``afterPosition``; each
    event's execution passes the event through that field)."""
    found: set[str] = set()
    for directive in operation.directives or ():
        _variables_in(directive, found)
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            for directive in selection.directives or ():
                _variables_in(directive, found)
            if selection.selection_set is not None:
                _variables_in(selection.selection_set, found)
        else:
            _variables_in(selection, found)
    for fragment in fragments.values():
        _variables_in(fragment, found)
    return found


def group_of(
    operation: OperationDefinitionNode,
    fragments: dict[str, Any],
    variables: dict[str, Any],
    principal: Principal | None,
    owner: object,
) -> Hashable | None:
    """Who shares a result: the same document and operation, the same values of the
    variables the selection uses, the same visibility class (and server, ``owner``);
    ``None`` when nothing may be shared."""
    if principal is None:
        return None
    used = selection_variables(operation, fragments)
    try:
        coded = orjson.dumps(
            {k: v for k, v in variables.items() if k in used}, option=orjson.OPT_SORT_KEYS
        )
    except TypeError:
        return None
    name = operation.name.value if operation.name else None
    text = _document_text(operation, fragments)
    return (id(owner), text, name, coded, visibility_class(principal))


EXECUTOR: ContextVar[SharedEventExecutor | None] = ContextVar("executor", default=None)
"""The executor of the subscription whose task this is, set when graphql-core builds it
(``api.hub`` executes the subscription's live events with it)."""


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, executing each event of a subscription once per group."""

    _group: Hashable | None = None
    _grouped = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.operation.operation is OperationType.SUBSCRIPTION:
            EXECUTOR.set(self)

    def share_group(self) -> Hashable | None:
        """The group of subscribers whose results this executor's are (``group_of``)."""
        if not self._grouped:
            context = self.context_value
            self._group = group_of(
                self.operation,
                self.fragment_definitions,
                self.variable_values.coerced,
                getattr(context, "principal", None),
                getattr(context, "services", None),
            )
            self._grouped = True
        return self._group

    def build_per_event_executor(self, payload: Any) -> Any:
        self.share_group()
        return super().build_per_event_executor(payload)

    def execute_operation(self, serially: bool | None = None) -> Any:
        group, event = self._group, self.root_value
        if group is None or type(event) not in _SHAREABLE:
            return super().execute_operation(serially)
        run = super().execute_operation
        # A subscription event's execution never yields incremental results.
        execute = cast("Callable[[bool | None], ExecutionResult | Awaitable[ExecutionResult]]", run)
        return shared_executions().result(group, int(event.position), lambda: execute(serially))
