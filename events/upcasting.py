"""Schema evolution: upcasters lift stored event data to the current shape on read.

Register one function per ``(type, schema_version)``; it returns the data of
``schema_version + 1``. Reads chain them until no upcaster matches, and the
``RecordedEvent`` carries the version it ended at. The stored row (and its hash)
never changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UpcasterRegistry:
    """Maps ``(type, schema_version)`` to a function upgrading data by one version."""

    def __init__(self) -> None:
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: ``@registry.register("PersonHired", 1)`` upgrades v1 data to v2."""

        def decorator(fn: Upcaster) -> Upcaster:
            self.add(type, from_version, fn)
            return fn

        return decorator

    def add(self, type: str, from_version: int, fn: Upcaster) -> None:
        key = (type, from_version)
        if key in self._upcasters:
            raise ValueError(f"an upcaster for {type} v{from_version} is already registered")
        self._upcasters[key] = fn

    def __bool__(self) -> bool:
        return bool(self._upcasters)

    def upcast(
        self, type: str, schema_version: int, data: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """Apply upcasters from ``schema_version`` on; return (final version, data)."""
        upcasters = self._upcasters
        fn = upcasters.get((type, schema_version))
        while fn is not None:
            data = fn(data)
            schema_version += 1
            fn = upcasters.get((type, schema_version))
        return schema_version, data


default_upcasters = UpcasterRegistry()
"""The registry stores use unless given another; domain code registers here."""
