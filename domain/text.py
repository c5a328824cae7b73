"""What a string must be to enter the log: the one check every text field shares.

Every string an event carries must be storable by every read model on every backend and
printable in every client: no NUL (PostgreSQL text cannot hold it), no unpaired surrogate
(not encodable as UTF-8), no other control character (except tab and line breaks in free
text), and no longer than its field's documented limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_ALLOWED_IN_FREE_TEXT = frozenset("\t\n\r")


def problem(value: str, max_len: int, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored (a phrase to follow the field's name), or None."""
    if len(value) > max_len:
        return f"is longer than {max_len} characters"
    for ch in value:
        code = ord(ch)
        if code < 0x20 or 0x7F <= code < 0xA0:
            if multiline and ch in _ALLOWED_IN_FREE_TEXT:
                continue
            return f"holds a control character (U+{code:04X})"
        if 0xD800 <= code <= 0xDFFF:
            return f"holds an unpaired surrogate (U+{code:04X})"
    return None


def unstorable(value: object, path: str = "") -> tuple[str, str] | None:
    """The first string in a JSON-like ``value`` (keys included) that no backend can store
    -- a NUL or an unpaired surrogate -- as ``(path, why)``, or None."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if (why := _unstorable_char(item)) is not None:
                return where, why
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                at = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and (why := _unstorable_char(key)) is not None:
                    return at, why
                stack.append((at, inner))
        elif isinstance(item, list | tuple):
            stack.extend((f"{where}.{i}", inner) for i, inner in enumerate(item))
    return None


def _unstorable_char(value: str) -> str | None:
    if "\x00" in value:
        return "holds a NUL character"
    if value.isascii():  # no surrogate then (the usual case, checked in C)
        return None
    for ch in value:
        if 0xD800 <= ord(ch) <= 0xDFFF:
            return f"holds an unpaired surrogate (U+{ord(ch):04X})"
    return None
