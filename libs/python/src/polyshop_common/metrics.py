"""Metrics in Prometheus' text format (docs/observability.md, 'Metrics').

The series every piece shares are named once, in contracts/metrics.json,
and built from it here and in the Node.js library alike. A series exists
once it is first used, so a service without an outbox serves no outbox
series.

`time_requests(app)` times every request of a Flask app by its route
template; `serve_metrics(app)` answers `GET /metrics` on a service's port.

A piece with several worker processes (the gateway) sets
PROMETHEUS_MULTIPROC_DIR before it imports this module: prometheus-client
then keeps each process's values in files there, and its master serves
their sum on a port of its own (polyshop_common.metrics_port).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

from polyshop_common.settings import find_contracts_dir

METRICS_PATH = "/metrics"
# The text format every Prometheus reads, and the one prom-client serves: the
# names here need none of version 1.0.0's escaping.
TEXT_FORMAT = CONTENT_TYPE_PLAIN_0_0_4
KINDS: dict[str, type] = {"counter": Counter, "gauge": Gauge, "histogram": Histogram}

# A `_created` series beside every counter and histogram doubles what a
# scrape reads; prom-client has none.
disable_created_metrics()

_lock = threading.Lock()
_made: dict[str, Any] = {}


@cache
def contract() -> dict[str, Any]:
    folder = os.environ.get("CONTRACTS_DIR") or find_contracts_dir()
    if folder is None:
        raise FileNotFoundError("no contracts folder: set CONTRACTS_DIR to the contracts/ folder")
    return json.loads((Path(folder) / "metrics.json").read_text(encoding="utf-8"))


def metric(name: str) -> Any:
    """The shared series `name` of contracts/metrics.json, made on first use."""
    with _lock:
        if name not in _made:
            spec = contract()["metrics"][name]
            options: dict[str, Any] = {"labelnames": spec["labels"]}
            if "buckets" in spec:
                options["buckets"] = spec["buckets"]
            # The text format adds `_total` to a counter's name itself.
            base = name.removesuffix("_total") if spec["type"] == "counter" else name
            _made[name] = KINDS[spec["type"]](base, spec["help"], **options)
        return _made[name]


def exposition() -> tuple[bytes, str]:
    """Every series of this piece (of all its processes), and the content type."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), TEXT_FORMAT
    return generate_latest(REGISTRY), TEXT_FORMAT


def time_requests(app: Flask) -> None:
    """Time each request by method, route template and status."""
    duration = metric("http_server_request_duration_seconds")

    def route() -> str:
        rule = request.url_rule
        return rule.rule if rule is not None else ""

    @app.before_request
    def start_clock() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def observe(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is not None:
            duration.labels(request.method, route(), str(response.status_code)).observe(
                time.perf_counter() - started
            )
        return response


def serve_metrics(app: Flask) -> None:
    def serve() -> Response:
        body, content_type = exposition()
        return Response(body, content_type=content_type)

    app.add_url_rule(METRICS_PATH, "metrics", serve, methods=["GET"])


def watch_outbox(db_path: str | Path) -> None:
    """Serve the outbox's backlog and the age of its oldest unsent row, read
    from the database when scraped."""
    backlog = metric("polyshop_outbox_backlog_rows")
    oldest = metric("polyshop_outbox_oldest_age_seconds")

    def read() -> tuple[int, float]:
        conn = sqlite3.connect(db_path, timeout=1)
        try:
            count, first = conn.execute(
                "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE sent_at IS NULL"
            ).fetchone()
        finally:
            conn.close()
        if first is None:
            return count, 0.0
        age = datetime.now(UTC) - datetime.fromisoformat(first.replace("Z", "+00:00"))
        return count, max(age.total_seconds(), 0.0)

    backlog.set_function(lambda: read()[0])
    oldest.set_function(lambda: read()[1])
