"""The gateway's metrics (docs/observability.md, 'Metrics').

Beside the request series every piece has (by the gateway's route: the
prefix in routes.yaml, or the rule of one of its own paths), the gateway
measures its upstreams: the latency of each instance up to its response
head, the retries on another instance, the ejections by the breakers and
each breaker's state.

The metrics are an operator's, not the public's: the gateway routes no
`/metrics` path, and its own are served on a port of their own
(`METRICS_PORT`) by the gunicorn master, which sums its workers' values
(gunicorn.conf.py). Each worker keeps its own breakers, so a breaker's
state is counted per worker: `state="open"` at 2 means both workers have
ejected the instance.
"""

from __future__ import annotations

from flask import Flask
from prometheus_client import Counter, Gauge, Histogram

from gateway.breaker import CLOSED, HALF_OPEN, OPEN
from polyshop_common.metrics import contract, metric, time_requests

STATES = (CLOSED, HALF_OPEN, OPEN)

UPSTREAM_DURATION = Histogram(
    "polyshop_gateway_upstream_duration_seconds",
    "Time from sending a request to an upstream instance to its response head.",
    ["upstream_service", "upstream_instance"],
    buckets=contract()["metrics"]["http_server_request_duration_seconds"]["buckets"],
)
RETRIES = Counter(
    "polyshop_gateway_retries",
    "Requests sent again to another instance after a connection failed.",
    ["upstream_service"],
)
EJECTIONS = Counter(
    "polyshop_gateway_ejections",
    "Times a breaker opened, taking its instance out of load balancing.",
    ["upstream_instance"],
)
BREAKER_STATE = Gauge(
    "polyshop_gateway_breaker_state",
    "Workers whose breaker of the instance is in this state (closed, half-open, open).",
    ["upstream_instance", "state"],
    multiprocess_mode="livesum",
)


def register_metrics(app: Flask) -> None:
    """The gateway's own paths (Flask's) are timed by Flask's rule."""
    time_requests(app)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """A request of the proxy path (edge.py), by its route's name ("" for a
    path no route serves)."""
    metric("http_server_request_duration_seconds").labels(method, route, str(status)).observe(
        seconds
    )


def breaker_changed(instance: str, state: str) -> None:
    for each in STATES:
        BREAKER_STATE.labels(instance, each).set(1 if each == state else 0)
    if state == OPEN:
        EJECTIONS.labels(instance).inc()
