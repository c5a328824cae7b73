"""The one place where exceptions become GraphQL errors.

* Errors the client caused and may read (``ApiError``, ``domain.errors.LadderError``,
  ``events.errors.StoreError``, deliberate ``GraphQLError``) keep their message and get
  ``extensions.code`` (and ``extensions.field`` when they name one).
* Mutations turn the same errors into payload ``UserError`` entries with :func:`user_errors`.
* Everything else is a bug: it is logged with a fresh error id, and the client sees only
  ``"Internal server error"`` with ``extensions {code: INTERNAL, errorId}``.

Domain and store errors are recognised by class, imported lazily, so this module does not
depend on ``domain/`` or ``events/`` being importable.
"""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import Iterator
from functools import cache
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult

from api.types.user_error import UserError

logger = logging.getLogger("api.errors")

INTERNAL_MESSAGE = "Internal server error"

# Stable codes for request-level failures (no ``data``).
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
TOKEN_LIMIT_EXCEEDED = "TOKEN_LIMIT_EXCEEDED"  # noqa: S105 - an error code
INTERNAL = "INTERNAL"
# graphql-core's parser message; a unit test pins it.
_TOKEN_LIMIT_PREFIX = "Document contains more than"  # noqa: S105


class ApiError(Exception):
    """An error of the API layer a client may read: stable ``code``, ``message``, ``field``."""

    code: str = "BAD_REQUEST"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Unauthenticated(ApiError):
    """No valid credentials: missing, malformed, badly signed or expired token."""

    code = "UNAUTHENTICATED"


class Forbidden(ApiError):
    """Valid credentials that do not allow this operation or object."""

    code = "FORBIDDEN"


class InvalidGlobalId(ApiError):
    code = "INVALID_ID"


@cache
def _exposed_types() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = [ApiError]
    for module_name, class_name in (
        ("domain.errors", "LadderError"),
        ("events.errors", "StoreError"),
    ):
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # pragma: no cover - only while those packages are being built
            continue
        error_type = getattr(module, class_name, None)
        if isinstance(error_type, type) and issubclass(error_type, BaseException):
            found.append(error_type)
    return tuple(found)


def is_client_error(exc: BaseException) -> bool:
    """True for errors whose code and message are part of the public API."""
    return isinstance(exc, _exposed_types()) and isinstance(getattr(exc, "code", None), str)


def _message_of(exc: BaseException) -> str:
    message = getattr(exc, "message", None)
    return message if isinstance(message, str) else str(exc)


def _field_of(exc: BaseException) -> str | None:
    field = getattr(exc, "field", None)
    return field if isinstance(field, str) else None


def user_error(exc: BaseException) -> UserError:
    """Build a payload ``UserError`` from a domain, store or API error."""
    return UserError(code=str(getattr(exc, "code")), message=_message_of(exc), field=_field_of(exc))  # noqa: B009


def user_errors(exc: BaseException) -> list[UserError]:
    """Payload errors for ``exc``; re-raises anything that is not a client error.

    Use it in mutation resolvers::

        try:
            result = await services.app.handle(command)
        except Exception as exc:
            return HirePersonPayload(errors=user_errors(exc))

    Unexpected exceptions propagate and are masked by :class:`ErrorShaping`.
    """
    if not is_client_error(exc):
        raise exc
    return [user_error(exc)]


def _with_extensions(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def internal_error(error: GraphQLError, request_id: str | None = None) -> GraphQLError:
    """Log ``error`` (with its original exception) under a new id and return the masked one."""
    error_id = uuid.uuid4().hex
    original = error.original_error
    logger.error(
        "unexpected error %s (request %s) at %s: %s",
        error_id,
        request_id or "-",
        ".".join(str(p) for p in error.path or ()) or "<request>",
        error.message,
        exc_info=(type(original), original, original.__traceback__) if original else None,
        extra={"fields": {"error_id": error_id, "request_id": request_id}},
    )
    return _with_extensions(error, INTERNAL_MESSAGE, {"code": INTERNAL, "errorId": error_id})


def shape_error(
    error: GraphQLError, *, suggestions: bool = True, request_id: str | None = None
) -> GraphQLError:
    """Give ``error`` a stable ``extensions.code``, masking it unless the client caused it."""
    extensions = dict(error.extensions or {})
    if "code" in extensions and error.original_error is None:
        return error  # already shaped (our validation rules, or a previous pass)
    original = error.original_error
    if original is None:
        if error.path is not None:
            # graphql-core's own execution errors (e.g. null for a non-null field): a bug.
            return internal_error(error, request_id)
        if isinstance(error, GraphQLSyntaxError):
            code = TOKEN_LIMIT_EXCEEDED if _TOKEN_LIMIT_PREFIX in error.message else PARSE_FAILED
        else:
            code = VALIDATION_FAILED  # validation rules and variable coercion
        message = error.message
        if not suggestions and " Did you mean" in message:
            message = message.split(" Did you mean")[0].strip()
        return _with_extensions(error, message, {**extensions, "code": code})
    if is_client_error(original):
        extensions["code"] = str(getattr(original, "code"))  # noqa: B009
        if (field := _field_of(original)) is not None:
            extensions["field"] = field
        return _with_extensions(error, _message_of(original), extensions)
    if isinstance(original, GraphQLError):
        # Raised on purpose by a resolver (or by Strawberry, e.g. a permission class).
        extensions = {**(original.extensions or {}), **extensions}
        extensions.setdefault("code", "BAD_REQUEST")
        return _with_extensions(error, error.message, extensions)
    return internal_error(error, request_id)


class ErrorShaping(SchemaExtension):
    """Apply :func:`shape_error` to every result, including each subscription event."""

    def __init__(self, *, suggestions: bool = True) -> None:
        super().__init__()
        self.suggestions = suggestions
        self._streamed = False

    def _shape(self, result: object) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            request_id = getattr(self.execution_context.context, "request_id", None)
            result.errors = [  # type: ignore[attr-defined]
                shape_error(e, suggestions=self.suggestions, request_id=request_id) for e in errors
            ]

    def on_operation(self) -> Iterator[None]:
        self._streamed = False
        yield
        if self._streamed:
            return
        result = self.execution_context.result
        if isinstance(result, (GraphQLExecutionResult, StrawberryExecutionResult)):
            self._shape(result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        self._streamed = True
        self._shape(result)
        yield None
