"""The GraphQL endpoint: Strawberry's ASGI view, subclassed to follow GraphQL over HTTP.

We subclass ``strawberry.asgi.GraphQL`` (rather than wrapping it) because the rules need
what only the view knows: the operation type (405 for a mutation over GET) and whether a
result is a request error (400 and no ``data`` for ``application/graphql-response+json``).
The view adds, per https://graphql.github.io/graphql-over-http/draft/:

* ``Accept`` negotiation between ``application/graphql-response+json`` (when asked for by
  name) and ``application/json`` (legacy: 200 for every well-formed request; also for a
  missing ``Accept`` and for wildcards, as the spec's legacy rules and the graphql-http audit
  ask, so clients that do not know the new type get the one they can read); 406 otherwise;
* POST bodies must be JSON (``application/json``, or ``application/graphql-response+json``)
  in UTF-8, else 415. That is also our CSRF defence: a browser cannot send such a request
  cross-origin without a CORS preflight, and GET never runs a mutation (405, ``Allow: POST``);
* the one exception is a file upload, a GraphQL multipart request
  (https://github.com/jaydenseric/graphql-multipart-request-spec: ``operations``, ``map``,
  then the files) in ``multipart/form-data``, which a plain HTML form could send
  cross-origin: it must carry a non-empty ``GraphQL-Require-Preflight`` header (or
  Apollo's ``Apollo-Require-Preflight`` / ``X-Apollo-Operation-Name``), which no browser
  sends cross-origin without a preflight; without one, 400 ``PREFLIGHT_REQUIRED``. Its
  body may be up to ``max_upload_bytes`` (``api.middleware``);
* 400 with a JSON error body for requests that are not GraphQL requests (bad JSON, a
  non-string ``query``, batches...), and 401 for a bad token (never downgraded to anonymous);
* subscriptions are served over WebSocket on the same path (``graphql-transport-ws`` and
  legacy ``graphql-ws``), where the token arrives in ``connection_init`` and the ``Origin``
  is checked against ``ws_allowed_origins``; and over server-sent events
  (``Accept: text/event-stream``, the ``graphql-sse`` protocol's distinct connections mode,
  with Strawberry's transport), with the token in ``Authorization`` as for any request.
  Over plain JSON a subscription is refused (400).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncGenerator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any, cast

import orjson
from cross_web import AsyncHTTPRequestAdapter
from cross_web import HTTPException as StrawberryHTTPException
from graphql import DocumentNode, GraphQLError, GraphQLSchema, OperationDefinitionNode, parse
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.file_uploads.utils import replace_placeholders_with_files
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http import process_result as strawberry_process_result
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
)
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from api.auth import TokenKeys, decode_token, token_from_authorization, token_from_connection_params
from api.context import AppServices, Context
from api.documents import PERSISTED_DOCUMENT_NOT_FOUND, TrustedDocuments
from api.errors import INTERNAL, Unauthenticated, internal_error, shape_error
from api.fanout import encoded_payload
from api.graphiql import graphiql_page
from api.limits import RequestLimits
from api.metrics import Metrics
from api.middleware import BodyTooLarge
from api.observe import RequestRecord, request_record
from api.outbox import OUTBOX_KEY, Outbox
from api.plans import DirectRequest, answer_planned, execute_mutation
from api.settings import Settings
from api.websocket import LegacyWSHandler, TransportWSHandler
from domain.text import unstorable

_WS_SUBJECT = "ladder.ws_subject"
_OUTBOX = OUTBOX_KEY
_EVENT_STREAM = "ladder.event_stream"
MAX_JSON_DEPTH = 32
"""Deepest nesting of ``variables`` and ``extensions`` (a GraphQL input is far shallower)."""


@lru_cache(maxsize=64)
def _content_type(header: str) -> tuple[str, str]:
    """``(media type, charset)`` of a ``Content-Type`` header, lower-cased (the few headers
    clients send are parsed once)."""
    media, params = parse_content_type(header)
    return media.lower(), params.get("charset", "utf-8").lower()


def _json_body(body: str | bytes) -> Any:
    """The body's JSON: orjson, and the standard library (which the errors come from) for
    what orjson refuses: a body that is not JSON, too deep, or with numbers orjson does
    not take (NaN, integers past 64 bits)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def _json_params(body: bytes) -> Mapping[str, object]:
    """A POST body's request object; 400 for anything else."""
    try:
        parsed = _json_body(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPProblem(400, "The body is not valid JSON.", "BAD_REQUEST") from exc
    except RecursionError as exc:
        raise _too_deep() from exc
    if isinstance(parsed, list):
        raise HTTPProblem(400, "Batched requests are not supported.", "BAD_REQUEST")
    if not isinstance(parsed, dict):
        raise HTTPProblem(400, "The body must be a JSON object.", "BAD_REQUEST")
    return parsed


def json_depth(value: object) -> int:
    """How deeply ``value`` nests lists and objects (iteratively: no recursion limit)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item)
    return deepest


GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
EVENT_STREAM = "text/event-stream"
_JSON_REQUEST_TYPES = frozenset({JSON, GRAPHQL_RESPONSE_JSON})
MULTIPART = "multipart/form-data"
PREFLIGHT_HEADERS = (
    "graphql-require-preflight",
    "apollo-require-preflight",
    "x-apollo-operation-name",
)
"""Headers that force a CORS preflight: one must be set (non-empty) on a multipart upload."""


@dataclass
class AppState:
    """Shared by the app and the view: the lifespan may replace ``services`` at startup."""

    settings: Settings
    services: AppServices | None = None
    metrics: Metrics | None = None
    documents: TrustedDocuments = field(default_factory=TrustedDocuments)


@dataclass
class HTTPProblem(Exception):
    """A request we answer without executing it."""

    status: int
    message: str
    code: str
    headers: dict[str, str] = field(default_factory=dict)


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    ranges: list[tuple[str, float]] = []
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media.strip():
            ranges.append((media.strip().lower(), quality))
    return ranges


def negotiate(accept: str | None) -> str | None:
    """The response media type for an ``Accept`` header, ``None`` when we have none to offer."""
    if accept is None or not accept.strip():
        return JSON
    best: tuple[float, int, str] | None = None
    for media, quality in _media_ranges(accept):
        if quality <= 0:
            continue
        if media == GRAPHQL_RESPONSE_JSON:
            offer, preference = GRAPHQL_RESPONSE_JSON, 2
        elif media == JSON:
            offer, preference = JSON, 1
        elif media in ("application/*", "*/*"):
            offer, preference = JSON, 0
        else:
            continue
        # Highest quality wins; on a tie, a type named outright, the spec's own first.
        candidate = (quality, preference, offer)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return None if best is None else best[2]


def is_request_error(result: ExecutionResult) -> bool:
    """True when execution never started: the response must have no ``data`` entry."""
    if isinstance(result, PreExecutionError):
        return True
    # Variable coercion fails inside graphql-core's execute with data=None and errors that
    # have no path; a field error that nulls the whole result always has a path.
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


def _problem_body(problem: HTTPProblem) -> bytes:
    return json.dumps(
        {"errors": [{"message": problem.message, "extensions": {"code": problem.code}}]}
    ).encode()


def _record_problem(record: RequestRecord | None, problem: HTTPProblem) -> None:
    if record is not None:
        record.add_error({"code": problem.code})


def _problem_response(problem: HTTPProblem, media_type: str) -> Response:
    headers = {**problem.headers, "content-type": f"{media_type}; charset=utf-8"}
    return Response(_problem_body(problem), status_code=problem.status, headers=headers)


class SizeLimitedWebSocketAdapter(ASGIWebSocketAdapter):
    """Closes the socket (1009, message too big) on a message over ``max_body_bytes``;
    sends through the connection's bounded :class:`~api.outbox.Outbox` (``4503`` when a
    client is too slow to empty it).

    The same cap as HTTP bodies; uvicorn's own ``ws_max_size`` (16 MiB by default) is a
    backstop the server command should also lower.
    """

    _active_ids: set[str] | None = None
    _outbox: Outbox | None = None

    def outbox(self) -> Outbox:
        """The connection's outgoing queue (one per socket, kept in its ASGI scope so the
        view can finish it when the connection ends)."""
        outbox = self.ws.scope.get(_OUTBOX)
        if not isinstance(outbox, Outbox):
            capacity = cast("GraphQLView", self.view).state.settings.ws_send_queue
            outbox = Outbox(self.ws, capacity)
            self.ws.scope[_OUTBOX] = outbox
        return outbox

    async def _receive_text(self) -> str | None:
        """The next text message, or ``None`` once the connection was given up as too slow."""
        gave_up = self.outbox().overflowed
        if gave_up.is_set():
            return None
        receive = asyncio.ensure_future(self.ws.receive_text())
        wait = asyncio.ensure_future(gave_up.wait())
        try:
            await asyncio.wait((receive, wait), return_when=asyncio.FIRST_COMPLETED)
        finally:
            wait.cancel()
            if not receive.done():
                receive.cancel()
                with suppress(asyncio.CancelledError):
                    await receive
        if receive.cancelled() or not receive.done():
            return None
        return receive.result()

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object]:
        # Mirrors ``ASGIWebSocketAdapter.iter_json``, with the size check before decoding.
        limit = cast("GraphQLView", self.view).state.settings.max_body_bytes
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                try:
                    text = await self._receive_text()
                except KeyError as exc:
                    raise NonTextMessageReceived from exc
                if text is None:
                    return
                if len(text.encode()) > limit:
                    await self.ws.close(code=1009, reason="Message too big")
                    return
                try:
                    message = self.view.decode_json(text)
                except json.JSONDecodeError as exc:
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from exc
                    continue
                except RecursionError:
                    message = None
                if message is None or json_depth(message) > MAX_JSON_DEPTH + 2:
                    await self.ws.close(code=4400, reason="JSON nested too deeply")
                    return
                if await self._over_subscription_cap(message):
                    continue
                yield message
        except WebSocketDisconnect:
            return

    def _active(self) -> set[str]:
        active: set[str] | None = getattr(self, "_active_ids", None)
        if active is None:
            active = set()
            self._active_ids = active
        return active

    async def _over_subscription_cap(self, message: object) -> bool:
        """Refuse a subscription past ``max_subscriptions_per_connection`` (an ``error``
        for its id, nothing started); track the ids of those running."""
        if not isinstance(message, dict):
            return False
        kind, op_id = message.get("type"), message.get("id")
        if not isinstance(op_id, str):
            return False
        active = self._active()
        if kind in ("complete", "stop"):
            active.discard(op_id)
            return False
        if kind not in ("subscribe", "start") or op_id in active:
            return False
        cap = cast("GraphQLView", self.view).state.settings.max_subscriptions_per_connection
        if len(active) < cap:
            active.add(op_id)
            return False
        error = {
            "message": f"At most {cap} subscriptions per connection.",
            "extensions": {"code": "TOO_MANY_SUBSCRIPTIONS", "limit": cap},
        }
        payload: object = [error] if kind == "subscribe" else error
        self._put({"id": op_id, "type": "error", "payload": payload})
        return True

    async def send_json(self, message: Mapping[str, object]) -> None:
        if message.get("type") in ("complete", "error") and isinstance(message.get("id"), str):
            self._active().discard(str(message["id"]))
        self._put(message)
        # Let the writer run: a subscription replaying from memory yields results without
        # ever waiting, and only a socket that stops draining should fill the queue.
        await asyncio.sleep(0)

    def _put(self, message: Mapping[str, object]) -> None:
        payload = encoded_payload(message.get("payload"))
        if payload is not None and len(message) == 3:
            # A shared result: its payload was encoded once for every subscriber; only
            # the envelope (``next`` or legacy ``data``, this operation's id) is ours.
            head = orjson.dumps({"id": message.get("id"), "type": message.get("type")})
            self.outbox().put(f'{head[:-1].decode()},"payload":{payload}}}')
            return
        encoded = self.view.encode_json(message)
        self.outbox().put(encoded if isinstance(encoded, str) else encoded.decode())

    async def close(self, code: int, reason: str) -> None:
        outbox = self.outbox()
        if outbox.overflowed.is_set():
            return  # already being closed as too slow
        await outbox.flushed()
        await super().close(code, reason)


def _first_name(document: DocumentNode) -> str | None:
    """The name of the document's first operation (the one run without ``operationName``)."""
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            return definition.name.value if definition.name else None
    return None


def _too_deep() -> HTTPProblem:
    return HTTPProblem(400, f"JSON is nested deeper than {MAX_JSON_DEPTH} levels.", "JSON_TOO_DEEP")


def _check_values(top: Mapping[str, object], **parts: object) -> None:
    """Refuse request values no backend can store or compare (a NUL, an unpaired
    surrogate) and JSON nested deeper than ``MAX_JSON_DEPTH``, naming where."""
    for value in parts.values():
        if value is not None and json_depth(value) > MAX_JSON_DEPTH:
            raise _too_deep()
    found = unstorable({**top, **parts})
    if found is not None:
        where, why = found
        raise HTTPProblem(400, f"`{where}` {why}.", "INVALID_CHARACTER")


class GraphQLView(GraphQL[Context, None]):
    answers_directly = True
    """Answer a planned query, and execute a mutation, without the schema's per-request
    machinery (``_answer_directly``); off, every request runs through ``Schema.execute``."""

    websocket_adapter_class = SizeLimitedWebSocketAdapter
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(self, schema: BaseSchema, state: AppState, **kwargs: Any) -> None:
        settings = state.settings
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allow_queries_via_get=True,
            subscription_protocols=(
                GRAPHQL_TRANSPORT_WS_PROTOCOL,
                GRAPHQL_WS_PROTOCOL,
                GRAPHQL_SSE_PROTOCOL,
            ),
            allowed_origins=tuple(settings.ws_allowed_origins),
            connection_init_wait_timeout=timedelta(seconds=10),
            **kwargs,
        )
        self.state = state
        limits = getattr(schema, "limits", None)
        self.limits = limits if isinstance(limits, RequestLimits) else None
        self._ws_open = 0
        self._ws_by_subject: Counter[str] = Counter()
        self.token_keys = TokenKeys.of(
            settings.token_secret, settings.token_verify_secrets, settings.token_jwks_file
        )

    def encode_json(self, data: object) -> str:
        """Responses and WebSocket messages coded by orjson (text, so WebSocket frames stay
        text frames); the standard library for anything orjson refuses."""
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            return json.dumps(data, separators=(",", ":"))

    # --- HTTP ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        record = request_record(scope)
        if record is not None:
            record.graphql = True
        media_type = JSON
        try:
            media_type = self._check_request(request)
            request.state.graphql_media_type = media_type
            response = await self._post_json(request) or await self.run(request)
            request_error = getattr(request.state, "graphql_request_error", False)
            if request_error and media_type == GRAPHQL_RESPONSE_JSON:
                response.status_code = 400
            if response.headers.get("content-type", "").startswith(JSON):
                response.headers["content-type"] = f"{media_type}; charset=utf-8"
        except HTTPProblem as problem:
            response = _problem_response(problem, media_type)
            _record_problem(record, problem)
        except StrawberryHTTPException as exc:
            rejected = HTTPProblem(exc.status_code, exc.reason, "BAD_REQUEST")
            response = _problem_response(rejected, media_type)
            _record_problem(record, rejected)
        try:
            await response(scope, receive, send)
        finally:
            await request.close()  # the uploaded files of a multipart request, if any

    async def _post_json(self, request: Request) -> Response | None:
        """The response to a JSON POST (a query or a mutation), served here without
        Strawberry's per-request view machinery: the request data checked once, one
        context, ``_execute``; ``None`` for any other request (GET, an upload, server-sent
        events), which Strawberry's ``run`` serves."""
        if (
            request.method != "POST"
            or request.scope.get(_EVENT_STREAM)
            or _content_type(request.headers.get("content-type", ""))[0] == MULTIPART
        ):
            return None
        request_data = self._request_data(_json_params(await request.body()), request.headers)
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, sub_response)
        result = await self._execute(request_data, context, get=False)
        return self.create_response(await self.process_result(request, result), sub_response)

    def _operations(self, query: str) -> int:
        """How many operations ``query`` defines, parsed by the schema's own cached, token
        capped parser (the execution that follows finds it in the cache); 0 when it does
        not parse: the usual path reports that."""
        limits = getattr(self.schema, "limits", None)
        try:
            document = limits.parse(query) if isinstance(limits, RequestLimits) else parse(query)
        except GraphQLError:
            return 0
        return sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one WebSocket within ``max_ws_connections`` per process (1013, try
        again later, above it); ``on_ws_connect`` counts them per subject."""
        if self._ws_open >= self.state.settings.max_ws_connections:
            await WebSocket(scope, receive, send).close(code=1013, reason="Too many connections")
            return
        self._ws_open += 1
        try:
            await super().__call__(scope, receive, send)
        finally:
            outbox = scope.get(_OUTBOX)
            if isinstance(outbox, Outbox):
                await outbox.finish()
            self._ws_open -= 1
            subject = scope.get(_WS_SUBJECT)
            if isinstance(subject, str):
                self._ws_by_subject[subject] -= 1
                if self._ws_by_subject[subject] <= 0:
                    del self._ws_by_subject[subject]

    def _check_request(self, request: Request) -> str:
        """Method, ``Accept`` and ``Content-Type`` checks; returns the response media type."""
        if request.method not in ("GET", "POST"):
            raise HTTPProblem(
                405, "Use GET (queries) or POST.", "METHOD_NOT_ALLOWED", {"Allow": "GET, POST"}
            )
        event_stream = self._event_stream(request)
        request.scope[_EVENT_STREAM] = event_stream
        if event_stream:
            media_type: str | None = EVENT_STREAM
        else:
            media_type = negotiate(request.headers.get("accept"))
        if media_type is None:
            if request.method == "GET" and self._wants_ide(request):
                return JSON  # the IDE check in ``run`` answers with HTML
            raise HTTPProblem(
                406,
                f"Accept {GRAPHQL_RESPONSE_JSON} or {JSON}.",
                "NOT_ACCEPTABLE",
            )
        if request.method == "POST":
            raw = request.headers.get("content-type")
            if raw is None:
                raise HTTPProblem(
                    415, "POST needs Content-Type: application/json.", "UNSUPPORTED_MEDIA_TYPE"
                )
            content_type, charset = _content_type(raw)
            if content_type == MULTIPART:
                if not any(request.headers.get(h, "").strip() for h in PREFLIGHT_HEADERS):
                    raise HTTPProblem(
                        400,
                        "A multipart upload needs a non-empty GraphQL-Require-Preflight header.",
                        "PREFLIGHT_REQUIRED",
                    )
            elif content_type not in _JSON_REQUEST_TYPES or charset != "utf-8":
                raise HTTPProblem(
                    415,
                    "POST bodies must be JSON (Content-Type: application/json) in UTF-8.",
                    "UNSUPPORTED_MEDIA_TYPE",
                )
        # Problems found before the stream opens are still answered in JSON.
        return JSON if media_type == EVENT_STREAM else media_type

    def _event_stream(self, request: Request) -> bool:
        """The client asks for server-sent events (``Accept: text/event-stream``)."""
        return self._get_stream_transport_from_headers(request.headers) is not None

    def _asks_event_stream(self, request: Request) -> bool:
        """``_event_stream``, as ``_check_request`` found it for this request."""
        found = request.scope.get(_EVENT_STREAM)
        return self._event_stream(request) if found is None else bool(found)

    @property
    def graphql_ide_html(self) -> str:
        # Strawberry's page loads GraphiQL from a CDN; ours comes from the package.
        return graphiql_page()

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET naming a registered document is a request, not a visit.
        if "documentId" in request.query_params:
            return False
        return super().should_render_graphql_ide(request)

    def _wants_ide(self, request: Request) -> bool:
        return self.graphql_ide is not None and "text/html" in request.headers.get("accept", "")

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "GET":
            params: Mapping[str, object] = self.parse_query_params(request.query_params)
        elif _content_type(request.content_type or "")[0] == MULTIPART:
            params = await self._multipart(request)
        else:
            params = _json_params(await request.get_body())
        return self._request_data(params, request.headers)

    def _request_data(
        self, params: Mapping[str, object], headers: Mapping[str, str]
    ) -> GraphQLRequestData:
        """The GraphQL request in ``params`` (a body's or a URL's), checked."""
        query, operation_name = params.get("query"), params.get("operationName")
        variables, extensions = params.get("variables"), params.get("extensions")
        if "documentId" in params:
            query = self._registered(params["documentId"], query)
        if not isinstance(query, str):
            raise HTTPProblem(400, "`query` must be a string.", "BAD_REQUEST")
        if operation_name is not None and not isinstance(operation_name, str):
            raise HTTPProblem(400, "`operationName` must be a string.", "BAD_REQUEST")
        if variables is not None and not isinstance(variables, dict):
            raise HTTPProblem(400, "`variables` must be an object.", "BAD_REQUEST")
        if extensions is not None and not isinstance(extensions, dict):
            raise HTTPProblem(400, "`extensions` must be an object.", "BAD_REQUEST")
        _check_values(
            {"query": query, "operationName": operation_name},
            variables=variables,
            extensions=extensions,
        )
        transport = self._get_stream_transport_from_headers(headers)
        return GraphQLRequestData(
            query=query,
            variables=cast("dict[str, Any] | None", variables),
            operation_name=operation_name,
            extensions=cast("dict[str, Any] | None", extensions),
            protocol=transport.protocol if transport is not None else "http",
        )

    async def _multipart(self, request: AsyncHTTPRequestAdapter) -> Mapping[str, object]:
        """The request of a GraphQL multipart request: ``operations`` with each file put
        where ``map`` says (one operation; batches are refused as for JSON)."""
        try:
            form = await request.get_form_data()
        except BodyTooLarge:
            raise  # the size cap answers (``api.middleware``)
        except Exception as exc:  # Starlette's parser raises its own HTTPException
            raise HTTPProblem(
                400, "The multipart body could not be parsed.", "BAD_REQUEST"
            ) from exc
        operations = self._form_json(form.form.get("operations"), "operations")
        files_map = self._form_json(form.form.get("map", "{}"), "map")
        if isinstance(operations, list):
            raise HTTPProblem(400, "Batched requests are not supported.", "BAD_REQUEST")
        if not isinstance(operations, dict):
            raise HTTPProblem(400, "`operations` must be a JSON object.", "BAD_REQUEST")
        if not isinstance(files_map, dict) or not all(
            isinstance(paths, list) and all(isinstance(p, str) for p in paths)
            for paths in files_map.values()
        ):
            raise HTTPProblem(400, "`map` must map file fields to lists of paths.", "BAD_REQUEST")
        files = {name: form.files[name] for name in files_map if name in form.files}
        if len(files) != len(files_map):
            raise HTTPProblem(400, "A file named in `map` is missing.", "BAD_REQUEST")
        try:
            placed = replace_placeholders_with_files(operations, files_map, files)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise HTTPProblem(
                400, "A path in `map` is not in `operations`.", "BAD_REQUEST"
            ) from exc
        return cast("Mapping[str, object]", placed)

    def _form_json(self, value: object, name: str) -> object:
        if not isinstance(value, str):
            raise HTTPProblem(400, f"The multipart request has no `{name}` field.", "BAD_REQUEST")
        return self.parse_json(value)

    def _registered(self, key: object, query: object) -> str:
        """The text of the registered document ``key`` (``documentId``)."""
        if query is not None:
            raise HTTPProblem(400, "Send `query` or `documentId`, not both.", "BAD_REQUEST")
        if not isinstance(key, str):
            raise HTTPProblem(400, "`documentId` must be a string.", "BAD_REQUEST")
        text = self.state.documents.lookup(key)
        if text is None:
            raise HTTPProblem(400, f"No registered document {key}.", PERSISTED_DOCUMENT_NOT_FOUND)
        return text

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return json.loads(data)
        except json.JSONDecodeError as exc:
            raise HTTPProblem(400, "A parameter is not valid JSON.", "BAD_REQUEST") from exc
        except RecursionError as exc:
            raise _too_deep() from exc

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        return await self._execute(request_data, context, get=request_adapter.method == "GET")

    async def _execute(
        self, request_data: GraphQLRequestData, context: Context, *, get: bool
    ) -> ExecutionResult:
        """One request's result: a planned query's answer (``_answer_directly``), else the
        schema's execution; a query only over GET."""
        allowed = {OperationType.QUERY} if get else {OperationType.QUERY, OperationType.MUTATION}
        query = request_data.query
        if request_data.operation_name is None and query and self._operations(query) > 1:
            # GraphQL's GetOperation: with several operations the client must name one.
            raise HTTPProblem(
                400,
                "The document has several operations: name one with `operationName`.",
                "OPERATION_NAME_REQUIRED",
            )
        direct = await self._answer_directly(request_data, context, get=get)
        if direct is not None:
            return direct
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=None,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.MUTATION:
                raise HTTPProblem(
                    405, "Mutations need POST.", "METHOD_NOT_ALLOWED", {"Allow": "POST"}
                ) from exc
            raise HTTPProblem(
                400,
                "Subscriptions are served over WebSocket (graphql-transport-ws) on this path.",
                "BAD_REQUEST",
            ) from exc
        except CannotGetOperationTypeError as exc:
            raise HTTPProblem(400, exc.as_http_error_reason(), "BAD_REQUEST") from exc
        except MissingQueryError as exc:
            raise HTTPProblem(400, "No GraphQL query found in the request.", "BAD_REQUEST") from exc

    async def _answer_directly(
        self, request_data: GraphQLRequestData, context: Context, *, get: bool
    ) -> ExecutionResult | None:
        """The result of a request within every limit, without the schema's per-request
        machinery (its extensions' hooks): a query its plan answers
        (``api.plans.answer_planned``) or, over POST, a mutation executed by graphql-core
        as ``Schema.execute`` would (``api.plans.execute_mutation``), its errors shaped as
        ``ErrorShaping`` shapes them. ``None`` for anything else (a refusal, a document
        without a plan, variables that do not coerce, a plan that gave up), which the
        schema then executes and reports as always."""
        schema, limits = cast("GraphQLSchema", getattr(self.schema, "_schema", None)), self.limits
        query = request_data.query
        if (
            not self.answers_directly
            or schema is None
            or limits is None
            or query is None
            or self.state.documents.only_trusted
        ):
            return None
        operation_name, variables = request_data.operation_name, request_data.variables
        admitted = limits.admitted(schema, query, operation_name, variables)
        if admitted is None:
            return None
        document, cost = admitted
        direct = DirectRequest(
            schema, document, operation_name, variables, context, request_data.extensions
        )
        data = await answer_planned(direct)
        if data is not None:
            self._name_operation(context, operation_name, document, OperationType.QUERY)
            return ExecutionResult(data=data, errors=None, extensions=limits.cost_extension(cost))
        if get:
            return None
        done = await execute_mutation(direct)
        if done is None:
            return None
        errors = done.errors
        if errors:
            self.schema.process_errors(errors)
            errors = [
                shape_error(e, suggestions=limits.suggestions, request_id=context.request_id)
                for e in errors
            ]
        self._name_operation(context, operation_name, document, OperationType.MUTATION)
        return ExecutionResult(
            data=done.data, errors=errors, extensions=limits.cost_extension(cost)
        )

    @staticmethod
    def _name_operation(
        context: Context, name: str | None, document: DocumentNode, kind: OperationType
    ) -> None:
        """The request record's operation, as ``OperationObserver`` names it."""
        if context.record is not None:
            context.record.operation_name = name or _first_name(document)
            context.record.operation_type = kind.value

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = strawberry_process_result(result)
        if result.errors:
            # Safety net: an error that escaped ErrorShaping (e.g. raised by an extension
            # hook) has no code; never let its text reach the client.
            response["errors"] = [
                e.formatted if (e.extensions or {}).get("code") else internal_error(e).formatted
                for e in result.errors
            ]
        if is_request_error(result):
            response.pop("data", None)
            request.state.graphql_request_error = True
        if (record := request_record(request.scope)) is not None:
            for error in response.get("errors") or []:
                if isinstance(error, dict):
                    record.add_error(error.get("extensions"))
        return response

    # --- context -------------------------------------------------------------------------

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        state = request.scope.get("state") or {}
        request_id = state.get("request_id") or uuid.uuid4().hex
        context = Context(
            settings=self.state.settings,
            request_id=request_id,
            services=self.state.services,
            request=request,
            response=response if isinstance(response, Response) else None,
            metrics=self.state.metrics,
            record=request_record(request.scope),
            event_stream=isinstance(request, Request) and self._asks_event_stream(request),
        )
        if isinstance(request, Request):
            try:
                token = token_from_authorization(request.headers.get("authorization"))
                context.principal = decode_token(self.token_keys, token)
            except Unauthenticated as exc:
                raise HTTPProblem(
                    401,
                    exc.message,
                    exc.code,
                    {"WWW-Authenticate": 'Bearer error="invalid_token"'},
                ) from exc
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        try:
            token = token_from_connection_params(context.connection_params)
            context.principal = decode_token(self.token_keys, token)
        except Unauthenticated as exc:
            raise ConnectionRejectionError({"message": exc.message, "code": exc.code}) from exc
        subject = context.principal.subject if context.principal else ""
        cap = self.state.settings.max_ws_connections_per_subject
        if self._ws_by_subject[subject] >= cap:
            raise ConnectionRejectionError(
                {
                    "message": f"At most {cap} WebSocket connections per token subject.",
                    "code": "TOO_MANY_CONNECTIONS",
                }
            )
        if context.request is not None and _WS_SUBJECT not in context.request.scope:
            self._ws_by_subject[subject] += 1
            context.request.scope[_WS_SUBJECT] = subject
        unset: UnsetType = UNSET
        return unset


__all__ = ["INTERNAL", "AppState", "GraphQLError", "GraphQLView", "HTTPProblem", "negotiate"]
