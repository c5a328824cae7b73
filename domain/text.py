"""What a string must be to enter the log: the one check every text field shares.

Every string an event carries must be storable by every read model on every backend and
printable in every client: no NUL (PostgreSQL text cannot hold it), no unpaired surrogate
(not encodable as UTF-8), no other control character (except tab and line breaks in free
text), and no longer than its field's documented limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# The characters no field may hold (free text may hold tab and line breaks), found by one
# regular-expression scan rather than a Python loop over every character.
_BAD_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_BAD_IN_FREE_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def problem(value: str, max_len: int, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored (a phrase to follow the field's name), or None."""
    if len(value) > max_len:
        return f"is longer than {max_len} characters"
    found = (_BAD_IN_FREE_TEXT if multiline else _BAD_IN_LINE).search(value)
    if found is None:
        return None
    code = ord(found.group())
    if 0xD800 <= code <= 0xDFFF:
        return f"holds an unpaired surrogate (U+{code:04X})"
    return f"holds a control character (U+{code:04X})"


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
    if (found := _SURROGATE.search(value)) is not None:
        return f"holds an unpaired surrogate (U+{ord(found.group()):04X})"
    return None
