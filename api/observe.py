"""What each request did, for the access log and the metrics.

* :class:`RequestRecord`: one per HTTP request, in ``scope["state"]``; the GraphQL view and
  :class:`OperationObserver` fill in the operation and the errors.
* :class:`ObserveRequests`: ASGI middleware that times every HTTP request and, when it
  ends, writes one access-log line (logger ``api.access``) and, for GraphQL requests,
  records the request metrics.
* :class:`OperationObserver`: a schema extension that names the operation (HTTP and
  WebSocket alike) and counts open subscriptions and the results they send.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import FieldNode, OperationDefinitionNode
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType
from strawberry.utils.operation import get_operation_type

from api.metrics import Metrics

access_log = logging.getLogger("api.access")

RECORD_KEY = "request_record"
NO_OPERATION = "none"
"""The operation type of a request that never reached an operation (bad JSON, 406...)."""
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
"""Probes and scrapes, polled every few seconds: their successes are logged at DEBUG."""
MAX_ERRORS_LOGGED = 20
"""Errors kept per request: a long event stream may answer many."""


@dataclass
class RequestRecord:
    request_id: str
    method: str
    path: str
    status: int = 500
    graphql: bool = False
    operation_name: str | None = None
    operation_type: str = NO_OPERATION
    errors: list[dict[str, str]] = field(default_factory=list)
    """``{"code": ..., "errorId": ...}`` per error answered (the id only for masked ones)."""

    def add_error(self, extensions: dict[str, Any] | None) -> None:
        if len(self.errors) >= MAX_ERRORS_LOGGED:
            return
        extensions = extensions or {}
        entry = {"code": str(extensions.get("code", "UNKNOWN"))}
        if "errorId" in extensions:
            entry["errorId"] = str(extensions["errorId"])
        self.errors.append(entry)


def request_record(scope: Scope) -> RequestRecord | None:
    record = (scope.get("state") or {}).get(RECORD_KEY)
    return record if isinstance(record, RequestRecord) else None


class ObserveRequests:
    """Time each HTTP request; log it in one line and count GraphQL ones."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        record = RequestRecord(
            request_id=str(state.get("request_id", "-")),
            method=scope["method"],
            path=scope["path"],
        )
        state[RECORD_KEY] = record
        started = time.perf_counter()

        async def observed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            self.finish(record, time.perf_counter() - started)

    def finish(self, record: RequestRecord, seconds: float) -> None:
        if record.graphql and self.metrics is not None:
            # A request that never reached an operation (the IDE page, a 415...) has no name.
            reached = record.operation_type != NO_OPERATION
            name = record.operation_name if reached else NO_OPERATION
            self.metrics.observe_request(name, record.operation_type, record.status, seconds)
        quiet = record.path in QUIET_PATHS and record.status < 400
        level = logging.DEBUG if quiet else logging.INFO
        if not access_log.isEnabledFor(level):
            return  # nothing would be written: build no line
        fields: dict[str, Any] = {
            "request_id": record.request_id,
            "method": record.method,
            "path": record.path,
            "status": record.status,
            "duration_ms": round(seconds * 1000, 2),
        }
        text = f"{record.method} {record.path} {record.status} {seconds * 1000:.1f} ms"
        if record.graphql:
            fields["operation"] = record.operation_name
            fields["operation_type"] = record.operation_type
            text += f" {record.operation_type} {record.operation_name or '-'}"
        if record.errors:
            fields["errors"] = record.errors
            text += " errors=" + ",".join(
                f"{e['code']}:{e['errorId']}" if "errorId" in e else e["code"]
                for e in record.errors
            )
        text += f" id={record.request_id}"
        access_log.log(level, text, extra={"fields": fields})


def _root_field(operation: OperationDefinitionNode) -> str:
    first = operation.selection_set.selections[0]
    return first.name.value if isinstance(first, FieldNode) else "fragment"


class OperationObserver(SchemaExtension):
    """Names the operation for the request record; counts subscriptions and their results."""

    def __init__(self) -> None:
        super().__init__()
        self._subscription: tuple[Metrics, str, str] | None = None

    def _operation(self) -> tuple[str | None, OperationType, str] | None:
        ec = self.execution_context
        document = ec.graphql_document
        if document is None:
            return None
        try:
            kind = get_operation_type(document, ec.operation_name)
        except Exception:  # an unknown operationName: the request fails on its own
            return None
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        chosen = next(
            (o for o in operations if o.name and o.name.value == ec.operation_name),
            operations[0] if operations else None,
        )
        field_name = _root_field(chosen) if chosen else "-"
        return ec.operation_name, kind, field_name

    def _name_operation(self) -> tuple[str | None, OperationType, str] | None:
        """Fill in the request record (HTTP only); return the operation found, if any."""
        found = self._operation()
        record = getattr(self.execution_context.context, "record", None)
        if isinstance(record, RequestRecord) and found is not None:
            record.operation_name, kind, _ = found
            record.operation_type = kind.value
        return found

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:
            # Again here for documents that never execute (validation errors...).
            self._name_operation()
            if self._subscription is not None:
                metrics, name, transport = self._subscription
                metrics.subscriptions_open.labels(name, transport).dec()
                self._subscription = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        metrics = getattr(context, "metrics", None)
        # Named now too: a server-sent events response may be logged before the operation
        # ends (the client hung up).
        found = self._name_operation()
        if isinstance(metrics, Metrics) and found and found[1] is OperationType.SUBSCRIPTION:
            transport = str(getattr(context, "transport", "http"))
            self._subscription = (metrics, found[2], transport)
            metrics.subscriptions_open.labels(found[2], transport).inc()
        yield

    def on_stream_result(self, result: Any) -> Iterator[None]:
        if self._subscription is not None:
            metrics, name, transport = self._subscription
            metrics.subscription_messages.labels(name, transport).inc()
        yield
