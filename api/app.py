"""``create_app``: the Starlette application (GraphQL at ``/graphql``, health probes).

Wiring the store: pass ``bootstrap``, an async context manager factory that builds the
services from the settings at startup and closes them at shutdown::

    app = create_app(settings, bootstrap=api.services.runtime_services)

Tests may pass ready-made ``services`` instead (the caller then owns their lifetime).
Without either, the app serves only what needs no database (the shipped ladders).

:func:`serve_app` is the production app: settings from the environment and
``api.services.runtime_services`` (``events.bootstrap.bootstrap`` on
``settings.database_url``) opened by the lifespan, closed at shutdown::

    uvicorn --factory api.app:serve_app
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from strawberry.schema import BaseSchema

from api.documents import TrustedDocuments
from api.graphiql import graphiql_assets
from api.http import PREFLIGHT_HEADERS, AppState, GraphQLView
from api.metrics import Metrics, metrics_route
from api.middleware import REQUEST_ID_HEADER, BodySizeLimitMiddleware, RequestIdMiddleware
from api.observe import ObserveRequests
from api.schema import build_schema
from api.services import AppServices, runtime_services
from api.settings import Settings, get_settings

logger = logging.getLogger("api.app")

READY_TIMEOUT_SECONDS = 2.0


class InsecureConfiguration(RuntimeError):
    """Production settings that would let anyone in (``Settings.insecure``)."""


Bootstrap = Callable[[Settings], AbstractAsyncContextManager[AppServices]]


def create_app(
    settings: Settings | None = None,
    services: AppServices | None = None,
    *,
    bootstrap: Bootstrap | None = None,
    schema: BaseSchema | None = None,
) -> Starlette:
    settings = settings or get_settings()
    if (reason := settings.insecure()) is not None:
        raise InsecureConfiguration(f"refusing to serve in production: {reason}")
    if services is not None and bootstrap is not None:
        raise ValueError("pass services or bootstrap, not both")
    metrics = Metrics() if settings.metrics_enabled else None
    documents = TrustedDocuments.load(
        Path(settings.documents_file), only_trusted=settings.trusted_documents
    )
    state = AppState(settings=settings, services=services, metrics=metrics, documents=documents)
    if metrics is not None:
        metrics.watch(services)
    view = GraphQLView(schema or build_schema(settings, documents=documents), state)

    async def healthz(request: Request) -> JSONResponse:
        """The process is alive (no dependency is checked)."""
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        """The database answers and its migrations are at head (503 otherwise). Read
        models with dead letters are named as ``degraded``: the service still answers
        (200), but those views miss the events listed by ``ladder projections``."""
        services = state.services
        if services is None:
            return JSONResponse({"status": "ready"})
        degraded: dict[str, int] = {}
        try:
            ready = await asyncio.wait_for(services.ready(), READY_TIMEOUT_SECONDS)
            if ready:
                degraded = await asyncio.wait_for(services.degraded(), READY_TIMEOUT_SECONDS)
        except Exception:  # a probe reports, it does not crash
            logger.exception("readiness check failed")
            ready = False
        if not ready:
            problem = services.log_problem
            if problem is not None:  # served data would not be what the checkpoints signed
                return JSONResponse({"status": "tampered", "reason": problem}, status_code=503)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        if degraded:
            return JSONResponse(
                {
                    "status": "degraded",
                    "degraded": [
                        {"projection": name, "deadLetters": n}
                        for name, n in sorted(degraded.items())
                    ],
                }
            )
        return JSONResponse({"status": "ready"})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if bootstrap is None:
            yield
            return
        async with bootstrap(settings) as built:
            state.services = built
            if metrics is not None:
                metrics.watch(built)
            try:
                yield
            finally:
                state.services = None

    middleware: Sequence[Middleware] = [
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=[
                "authorization",
                "content-type",
                "accept",
                REQUEST_ID_HEADER,
                *PREFLIGHT_HEADERS,
            ],
            expose_headers=[REQUEST_ID_HEADER],
            allow_credentials=False,
            max_age=600,
        ),
        Middleware(RequestIdMiddleware),
        Middleware(ObserveRequests, metrics=metrics),
        Middleware(
            BodySizeLimitMiddleware,
            max_bytes=settings.max_body_bytes,
            max_upload_bytes=settings.max_upload_bytes,
        ),
    ]
    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/graphql", view),
        WebSocketRoute("/graphql", view),
    ]
    if settings.graphiql_enabled:
        routes.append(graphiql_assets())
    if metrics is not None:
        routes.append(metrics_route(metrics, settings, lambda: state.services))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.app_state = state
    return app


def serve_app(settings: Settings | None = None) -> Starlette:
    """The app with its runtime: bootstrapped at startup, closed at shutdown."""
    return create_app(settings or get_settings(), bootstrap=runtime_services)
