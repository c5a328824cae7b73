"""What observing a request costs: the access record, metrics and the access-log line.

Run: ``python -m bench.observe_bench``. Times ``ObserveRequests.finish`` (metrics recorded;
the access line filtered out by the log level, then formatted as JSON into memory) and one
``/metrics`` render, beside the cost of a bare ``logging`` call that is filtered out.
"""

from __future__ import annotations

import io
import logging
import timeit

from api.logs import JsonFormatter
from api.metrics import Metrics
from api.observe import ObserveRequests, RequestRecord

N = 100_000


def main() -> None:
    metrics = Metrics()
    observe = ObserveRequests(app=lambda scope, receive, send: None, metrics=metrics)  # type: ignore[arg-type, return-value]
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]

    def one() -> None:
        record = RequestRecord("id", "POST", "/graphql", 200, True, "Ladder", "query")
        observe.finish(record, 0.01)

    def bare() -> None:
        logging.getLogger("bench").debug("filtered out")

    root.setLevel(logging.WARNING)
    base = timeit.timeit(bare, number=N) / N * 1e6
    quiet = timeit.timeit(one, number=N) / N * 1e6
    root.setLevel(logging.INFO)
    logged = timeit.timeit(one, number=N) / N * 1e6
    scrape = timeit.timeit(metrics.render, number=1000)
    print(f"filtered-out logging call (baseline): {base:6.1f} us")
    print(f"finish(), metrics, no access line:    {quiet:6.1f} us per request")
    print(f"finish(), metrics, JSON access line:  {logged:6.1f} us per request")
    print(f"/metrics render (1 operation):        {scrape:6.2f} ms per scrape")


if __name__ == "__main__":
    main()
