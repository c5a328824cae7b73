"""The typed per-operation context every resolver receives (``info.context``).

Over HTTP a new ``Context`` is built for each request. Over WebSocket one ``Context`` lives
as long as the connection: the principal is set from ``connection_init``. A server-sent
events request (``Accept: text/event-stream``) is HTTP but lives as long as its
subscription. DataLoaders of these long-lived contexts do not cache (each event must see
fresh data).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from api.auth import Principal
from api.errors import Forbidden, Unauthenticated
from api.services import AppServices as AppServices  # re-exported for api.http
from api.settings import Settings

if TYPE_CHECKING:
    from api.metrics import Metrics
    from api.observe import RequestRecord

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class Context:
    settings: Settings
    request_id: str
    principal: Principal | None = None
    services: AppServices | None = None
    """The read models, ``CareerService`` and the store (``None``: an app with no database)."""
    request: Request | WebSocket | None = None
    response: Response | None = None
    # Set by Strawberry from the WebSocket ``connection_init`` payload.
    connection_params: dict[str, object] | None = None
    metrics: Metrics | None = None
    event_stream: bool = False
    """An HTTP request answered with server-sent events (``graphql-sse``)."""
    record: RequestRecord | None = None
    """What this HTTP request did, for the access log (``api.observe``)."""
    _loaders: dict[Callable[..., Any], DataLoader[Any, Any]] = field(
        default_factory=dict, repr=False
    )
    _primed: dict[Callable[..., Any], list[Callable[[], Mapping[Any, Any]]]] = field(
        default_factory=dict, repr=False
    )

    @property
    def is_websocket(self) -> bool:
        return isinstance(self.request, WebSocket)

    @property
    def transport(self) -> str:
        """``websocket``, ``sse`` or ``http``."""
        if self.is_websocket:
            return "websocket"
        return "sse" if self.event_stream else "http"

    def loader(self, load_fn: Callable[[list[K]], Awaitable[Sequence[V]]]) -> DataLoader[K, V]:
        """The DataLoader for ``load_fn`` in this context, made on first use.

        ``load_fn`` is the cache key, so use a module-level function (or a method bound to a
        long-lived object), not a fresh lambda per call.
        """
        existing = self._loaders.get(load_fn)
        if existing is None:
            existing = DataLoader(load_fn=load_fn, cache=self.transport == "http")
            self._loaders[load_fn] = existing
            for values in self._primed.pop(load_fn, ()):
                existing.prime_many(values())
        return existing

    def prime(
        self,
        load_fn: Callable[[list[K]], Awaitable[Sequence[V]]],
        values: Callable[[], Mapping[K, V]],
    ) -> None:
        """Values ``load_fn`` would load (``values()``), for its loader to serve without
        loading them: given to the loader now if it exists, else when it is first made, so
        a request that never uses the loader never builds them."""
        existing = self._loaders.get(load_fn)
        if existing is not None:
            existing.prime_many(values())
        else:
            self._primed.setdefault(load_fn, []).append(values)

    def observe_mutation(self, mutation: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.mutation_outcome(mutation, outcome)

    def require_services(self) -> AppServices:
        """The services behind this operation; a bug (masked as INTERNAL) when the app
        runs without them (no database wired)."""
        if self.services is None:
            raise RuntimeError("the application services are not wired into this app")
        return self.services

    def require_principal(self) -> Principal:
        """The caller, or ``UNAUTHENTICATED`` when there is no token."""
        if self.principal is None:
            raise Unauthenticated("Authentication required: send a bearer token.")
        return self.principal

    def require_writer(self) -> Principal:
        principal = self.require_principal()
        if not principal.can_write:
            raise Forbidden("Only HR may record career events.")
        return principal


Info = strawberry.Info[Context, None]
