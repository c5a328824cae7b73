"""Live fan-out: one follower of the log per group of WebSocket subscribers, writing each
event's once-encoded result to every member's socket.

A subscription first follows the log on its own cursor (its replay, through Strawberry as
any subscription; executions are still shared, ``api.fanout``). When it has caught up, that
is when its cursor is at the log's end as the shared tail knows it, it joins the
:class:`Hub` of its group (same document, operation, variables the selection uses and
visibility class) and stops yielding. The hub follows the log once for all its members:
per event it decides once whether the group may see it (the rights check: every member of
a group sees exactly the same people), executes the selection once, encodes the payload
once, and puts ``envelope + payload`` on each member's outbox. The per-member work is that
put (and the bound check of the outbox: a member that cannot keep up is closed with 4503
by its own outbox, and leaves).

No gap, no duplicate at the switch: a member joins at position ``p`` with everything up
to ``p`` already on its outbox, and the hub writes it only events after ``p``; the hub
never reads past the tail, so it has not yet passed ``p``'s successors. A member leaves
when its operation stops (``complete``, the socket closing, token expiry 4401, 4503); the
hub stops with its last member. A failed read fails every member, as a failed read of
the shared tail always did.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import suppress
from inspect import isawaitable
from typing import Any
from weakref import WeakKeyDictionary

import orjson
from graphql import ExecutionResult, FieldNode, OperationDefinitionNode

from api.errors import internal_error, shape_error
from api.fanout import COUNTS, EXECUTOR, encoded_payload
from api.metrics import Metrics
from api.outbox import Outbox, outbox_of
from api.streaming import follow
from events.notifier import Notifier
from events.port import EventStore, RecordedEvent

Root = Callable[[RecordedEvent], Awaitable[object | None]]
"""A subscription's event for a log event, or ``None`` when it is not for the subscriber
(the rights check, the subscription's own filters)."""


def _root_field(operation: OperationDefinitionNode) -> str:
    """The label ``api.observe`` counts a subscription's messages under."""
    first = operation.selection_set.selections[0]
    return first.name.value if isinstance(first, FieldNode) else "fragment"


class Member:
    """One subscription on a hub: its outbox, its envelope, where it joined."""

    def __init__(self, outbox: Outbox, op_id: str, result_type: str, after: int) -> None:
        self.outbox = outbox
        self.after = after
        head = orjson.dumps({"id": op_id, "type": result_type}).decode()
        self.prefix = head[:-1] + ',"payload":'
        self.ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class Hub:
    """The live part of one group's subscriptions: one follower, one execution per event."""

    def __init__(
        self,
        group: Hashable,
        executor: Any,
        root: Root,
        types: Sequence[str] | None,
        keep: Callable[[RecordedEvent], bool] | None,
        store: EventStore,
        notifier: Notifier,
        start: int,
    ) -> None:
        self.group = group
        self.executor = executor
        self.root = root
        self.members: list[Member] = []
        self.handled = start
        """Every event up to here is on the outbox of every member that should have it."""
        self.delivered = 0
        """Messages written (for tests and benchmarks)."""
        metrics = getattr(executor.context_value, "metrics", None)
        self._messages = (
            metrics.subscription_messages.labels(_root_field(executor.operation), "websocket")
            if isinstance(metrics, Metrics)
            else None
        )
        self._task = asyncio.create_task(self._run(types, keep, store, notifier, start))

    def join(self, member: Member) -> bool:
        if member.after < self.handled or self._task.done():
            return False
        self.members.append(member)
        return True

    def leave(self, member: Member) -> bool:
        """Remove ``member``; true when the hub has no one left (and was stopped)."""
        with suppress(ValueError):
            self.members.remove(member)
        if self.members:
            return False
        self._task.cancel()
        return True

    async def _run(
        self,
        types: Sequence[str] | None,
        keep: Callable[[RecordedEvent], bool] | None,
        store: EventStore,
        notifier: Notifier,
        start: int,
    ) -> None:
        def idle(position: int) -> bool:
            self.handled = position
            return False

        try:
            async for event in follow(store, start, notifier, keep, types=types, on_idle=idle):
                source = await self.root(event)
                if source is not None:
                    payload = await self._payload(source)
                    sent = 0
                    for member in self.members:
                        if member.after < event.position:
                            member.outbox.put(f"{member.prefix}{payload}}}")
                            sent += 1
                    self.delivered += sent
                    COUNTS.hub_events += 1
                    if self._messages is not None:
                        self._messages.inc(sent)
                self.handled = event.position
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            for member in self.members:
                if not member.ended.done():
                    member.ended.set_exception(exc)
            if not isinstance(exc, Exception):
                raise

    async def _payload(self, source: object) -> str:
        outcome = self.executor.build_per_event_executor(source).execute_operation(False)
        result: ExecutionResult = await outcome if isawaitable(outcome) else outcome
        shared = encoded_payload({"data": result.data}) if not result.errors else None
        if shared is not None:
            return shared
        # Errors (rare): shaped as ``api.errors.ErrorShaping`` and the view would.
        context = self.executor.context_value
        request_id = getattr(context, "request_id", None)
        settings = getattr(context, "settings", None)
        suggestions = bool(getattr(settings, "field_suggestions_enabled", True))
        body: dict[str, object] = {"data": result.data}
        if result.errors:
            shaped = [
                shape_error(e, suggestions=suggestions, request_id=request_id)
                for e in result.errors
            ]
            body["errors"] = [
                e.formatted if (e.extensions or {}).get("code") else internal_error(e).formatted
                for e in shaped
            ]
        return orjson.dumps(body).decode()


_HUBS: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, Hub]] = WeakKeyDictionary()


def hubs() -> dict[Hashable, Hub]:
    """The hubs of the running event loop (one server)."""
    loop = asyncio.get_running_loop()
    found = _HUBS.get(loop)
    if found is None:
        found = _HUBS[loop] = {}
    return found


async def fan_out(
    events: Callable[[Callable[[int], bool] | None], AsyncIterator[RecordedEvent]],
    root: Root,
    *,
    feed: Hashable,
    websocket: object,
    operation: tuple[str, str] | None,
    types: Sequence[str] | None,
    keep: Callable[[RecordedEvent], bool] | None,
    store: EventStore,
    notifier: Notifier,
) -> AsyncIterator[object]:
    """A subscription's events: its own (``events``, replay then live) until it catches
    up, then its group's hub's, written straight to its outbox.

    ``feed`` names the events the subscription follows (its root field and the arguments
    that choose the events, but not where it starts): members of one hub share it."""
    executor = EXECUTOR.get()
    shared = None if executor is None else executor.share_group()
    group = None if shared is None else (shared, feed)
    outbox = outbox_of(websocket)
    member: Member | None = None
    hub: Hub | None = None

    def join(position: int) -> bool:
        nonlocal member, hub
        if group is None or outbox is None or operation is None:
            return False
        candidate = Member(outbox, operation[0], operation[1], position)
        registry = hubs()
        found = registry.get(group)
        if found is None or not found.join(candidate):
            found = Hub(group, executor, root, types, keep, store, notifier, position)
            found.join(candidate)
            registry[group] = found
        member, hub = candidate, found
        return True

    async for event in events(join):
        source = await root(event)
        if source is not None:
            yield source
    if member is None or hub is None:
        return
    try:
        await member.ended
    finally:
        if hub.leave(member) and hubs().get(group) is hub:
            del hubs()[group]
