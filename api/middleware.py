"""Pure ASGI middleware: request ids and the request body size cap."""

from __future__ import annotations

import itertools
import json
import os
import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class _RequestIds:
    """Request ids in ``uuid4().hex``'s shape (32 hex digits): a random prefix drawn once
    per process and a counter. Unique without a system call per request (``os.urandom``
    releases the GIL, and taking it back costs the event loop a thread switch); not
    secrets, only labels for logs."""

    def __init__(self) -> None:
        self._pid = 0
        self._prefix = ""
        self._next = itertools.count(1)

    def __call__(self) -> str:
        if self._pid != os.getpid():  # a forked child draws its own prefix
            self._pid, self._prefix = os.getpid(), uuid.uuid4().hex[:16]
        return f"{self._prefix}{next(self._next) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


new_request_id = _RequestIds()


class RequestIdMiddleware:
    """Keep a sane incoming ``X-Request-ID`` or make one; echo it on the response.

    The id is stored in ``scope["state"]["request_id"]`` for the GraphQL context and logs.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)


class BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Answer 413 to HTTP requests whose body is over ``max_bytes`` (``BODY_TOO_LARGE``), or,
    for a ``multipart/form-data`` file upload, over ``max_upload_bytes``
    (``UPLOAD_TOO_LARGE``).

    Checks ``Content-Length`` up front, and counts streamed (chunked) bodies as they are
    read, so a request cannot get past the cap by leaving the length out.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_bytes if max_upload_bytes is None else max_upload_bytes

    @staticmethod
    def _drain_budget(limit: int) -> int:
        """Read (and drop) up to this much of a refused body before answering: closing a
        socket with unread data makes the kernel reset it, and the client may then never
        see the 413. Past this budget we answer anyway."""
        return max(1_048_576, 4 * limit)

    async def _drain(self, receive: Receive, limit: int) -> None:
        drained = 0
        while drained < self._drain_budget(limit):
            message = await receive()
            if message["type"] != "http.request":
                return
            drained += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    async def _reject(self, send: Send, limit: int, upload: bool) -> None:
        what, code = ("upload", "UPLOAD_TOO_LARGE") if upload else ("body", "BODY_TOO_LARGE")
        body = json.dumps(
            {
                "errors": [
                    {
                        "message": f"The request {what} is over {limit} bytes.",
                        "extensions": {"code": code, "limit": limit},
                    }
                ]
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        kind = headers.get("content-type", "").partition(";")[0].strip().lower()
        upload = kind == "multipart/form-data"
        limit = self.max_upload_bytes if upload else self.max_bytes
        length = headers.get("content-length")
        if length is not None:
            try:
                too_large = int(length) > limit
            except ValueError:
                too_large = True
            if too_large:
                await self._drain(receive, limit)
                await self._reject(send, limit, upload)
                return

        received = 0
        started = False
        body_complete = False

        async def counting_receive() -> Message:
            nonlocal received, body_complete
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_complete = not message.get("more_body", False)
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:  # pragma: no cover - the app answered before reading the whole body
                raise
            if not body_complete:
                await self._drain(receive, limit)
            await self._reject(send, limit, upload)
