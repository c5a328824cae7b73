"""Prometheus metrics for one process, served at ``/metrics`` in the text format.

One :class:`Metrics` per app (its own ``CollectorRegistry``, nothing global), made by
``create_app``. What it counts is recorded where it happens:

* GraphQL requests over HTTP (count and latency, by operation name and type, and status):
  ``api.observe.ObserveRequests``;
* mutation outcomes (``ok`` or the refusal's error code): ``api.types.mutations.write``;
* subscriptions open and results sent: ``api.observe.OperationObserver``;
* events appended by this process: a listener on the store, attached at startup.

The log's position and each projection's lag are read from the database at each scrape
(``events.checkpoints.lag``), so they hold for every process sharing the database, while
the counters are this process's own.

``LADDER_METRICS`` switches the endpoint (on in development, off in production);
``LADDER_METRICS_TOKEN`` makes it answer only ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from api.services import AppServices
from api.settings import Settings
from events.checkpoints import lag
from events.dead_letters import degraded
from events.port import RecordedEvent

logger = logging.getLogger("api.metrics")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MAX_OPERATION_NAMES = 100
"""Distinct operation names kept as labels; later ones count as ``other`` (names come from
clients, and every label value is a time series)."""
ANONYMOUS = "anonymous"
OTHER = "other"
SCRAPE_TIMEOUT_SECONDS = 5.0


class Metrics:
    """The instruments of one app, and the scrape that refreshes the database gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "ladder_graphql_requests",
            "GraphQL requests over HTTP, by operation name, operation type and HTTP status.",
            ["operation", "type", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "ladder_graphql_request_duration_seconds",
            "Time to answer a GraphQL request over HTTP, by operation name and type.",
            ["operation", "type"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.mutations = Counter(
            "ladder_mutations",
            "Mutations by field and outcome: ok, or the error code that refused it.",
            ["mutation", "outcome"],
            registry=r,
        )
        self.appended = Counter(
            "ladder_events_appended",
            "Events this process appended to the log, by event type.",
            ["type"],
            registry=r,
        )
        self.log_position = Gauge(
            "ladder_log_position", "The log's last position (every process).", registry=r
        )
        self.lag_events = Gauge(
            "ladder_projection_lag_events",
            "Events of the types a projection handles recorded after its checkpoint.",
            ["projection"],
            registry=r,
        )
        self.lag_seconds = Gauge(
            "ladder_projection_lag_seconds",
            "How long the oldest event a projection has not applied has waited (0: none).",
            ["projection"],
            registry=r,
        )
        self.dead_letters = Gauge(
            "ladder_projection_dead_letters",
            "Events a projection could not apply and skipped (ladder projections lists them); "
            "above 0 the read model is degraded.",
            ["projection"],
            registry=r,
        )
        self.subscriptions_open = Gauge(
            "ladder_subscriptions_open",
            "Subscriptions running in this process, by field and transport.",
            ["subscription", "transport"],
            registry=r,
        )
        self.subscription_messages = Counter(
            "ladder_subscription_messages",
            "Subscription results sent by this process, by field and transport.",
            ["subscription", "transport"],
            registry=r,
        )
        self.scrape_errors = Counter(
            "ladder_metrics_scrape_errors",
            "Scrapes whose database gauges could not be refreshed.",
            registry=r,
        )
        self._operations: set[str] = set()

    def operation_label(self, name: str | None) -> str:
        """``name`` as a label value: ``anonymous``, or ``other`` past the first 100 names."""
        if name is None:
            return ANONYMOUS
        if name not in self._operations:
            if len(self._operations) >= MAX_OPERATION_NAMES:
                return OTHER
            self._operations.add(name)
        return name

    def observe_request(
        self, operation: str | None, operation_type: str, status: int, seconds: float
    ) -> None:
        label = self.operation_label(operation)
        self.requests.labels(label, operation_type, str(status)).inc()
        self.latency.labels(label, operation_type).observe(seconds)

    def mutation_outcome(self, mutation: str, outcome: str) -> None:
        self.mutations.labels(mutation, outcome).inc()

    async def on_append(self, events: list[RecordedEvent]) -> None:
        """The store's after-commit listener."""
        for event in events:
            self.appended.labels(event.type).inc()

    def watch(self, services: AppServices | None) -> None:
        """Count the events ``services``' store appends (called once, at startup)."""
        if services is not None:
            services.store.add_listener(self.on_append)

    async def refresh(self, services: AppServices | None, now: datetime | None = None) -> None:
        """Read the log's position and the projections' lag from the database."""
        if services is None:
            return
        runtime = services.runtime
        self.log_position.set(await runtime.store.last_position())
        now = now or datetime.now(UTC)
        for behind in await lag(runtime.engine, runtime.projector.projections):
            self.lag_events.labels(behind.name).set(behind.events)
            self.lag_seconds.labels(behind.name).set(behind.seconds(now))
        skipped = await degraded(runtime.engine)
        for projection in runtime.projector.projections:
            self.dead_letters.labels(projection.name).set(skipped.get(projection.name, 0))

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _bearer_matches(header: str | None, token: str) -> bool:
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def metrics_route(
    metrics: Metrics, settings: Settings, services: Callable[[], AppServices | None]
) -> Route:
    """``GET /metrics``: the text exposition format, behind the token when one is set."""

    async def scrape(request: Request) -> Response:
        token = settings.metrics_token
        if token and not _bearer_matches(request.headers.get("authorization"), token):
            return PlainTextResponse(
                "metrics need Authorization: Bearer <LADDER_METRICS_TOKEN>\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        try:
            await asyncio.wait_for(metrics.refresh(services()), SCRAPE_TIMEOUT_SECONDS)
        except Exception:  # the process's own counters are still worth serving
            logger.exception("could not read the projections' lag for /metrics")
            metrics.scrape_errors.inc()
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", scrape, methods=["GET"])
