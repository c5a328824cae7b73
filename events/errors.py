"""Errors the event store and ``CareerService`` raise. Each has a stable ``code`` and the
field at fault."""

from __future__ import annotations


class StoreError(Exception):
    code = "STORE_ERROR"
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class WrongExpectedVersion(StoreError):
    """The stream moved on since the caller read it: reread and retry."""

    code = "CONCURRENCY_CONFLICT"
    field: str | None = "expectedVersion"

    def __init__(self, stream: str, expected: object, actual: int) -> None:
        super().__init__(f"stream {stream} is at version {actual}, expected {expected}")
        self.stream = stream
        self.expected = expected
        self.actual = actual


class IdempotencyKeyReused(StoreError):
    """The idempotency key was first used for a different operation (or another subject):
    its first result holds no event this command is named for. Nothing is written."""

    code = "IDEMPOTENCY_KEY_REUSED"
    field: str | None = "idempotencyKey"

    def __init__(self) -> None:
        super().__init__("This idempotencyKey was already used for a different operation.")


class StoreInputError(StoreError):
    code = "INVALID_APPEND"


class InvalidExpectedVersion(StoreInputError):
    code = "INVALID_EXPECTED_VERSION"
    field = "expectedVersion"


class InvalidStreamName(StoreInputError):
    code = "INVALID_STREAM_NAME"
    field = "stream"


class EmptyAppend(StoreInputError):
    code = "EMPTY_APPEND"
    field = "events"


class EventNotSerializable(StoreInputError):
    code = "EVENT_NOT_SERIALIZABLE"
    field = "data"


class EventTooLarge(StoreInputError):
    code = "EVENT_TOO_LARGE"
    field = "data"


class AppendOnlyViolation(StoreError):
    code = "APPEND_ONLY"


class DuplicateEventId(StoreInputError):
    """An event id in the append is already in the log (or twice in the append)."""

    code = "DUPLICATE_EVENT_ID"
    field = "eventId"
