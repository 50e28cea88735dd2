"""`GET /gateway/status`: what this gateway worker sees, for a live system view.

Per route, the requests and errors (answers of status 500 and above, the
gateway's own or the upstream's) since the worker started, and both per
second over the last `window_seconds`; per live instance of every routed
service, its breaker and its requests in flight. Public, so it holds
nothing about clients: no users, tokens or addresses.

Each gunicorn worker keeps its own counters, so the answer names the worker
(its pid). Counting costs every request a few additions, with no lock:
under gevent a worker switches greenlets only on I/O, so none is lost
there; with threads (the tests' server) a race may lose one, which a
dashboard can afford.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify

from gateway.balancer import instance_key
from gateway.breaker import CLOSED
from gateway.routes import RouteTable
from gateway.upstreams import Upstreams

WINDOW_SECONDS = 10

bp = Blueprint("status", __name__)


@dataclass(slots=True)
class Bucket:
    second: int = -1  # which second of the clock it counts
    requests: int = 0
    errors: int = 0


class RouteCounters:
    """Totals, and a ring of one bucket per second: the bucket of second `s`
    is `s % window`, started afresh when the ring comes round to it again."""

    def __init__(self, window_seconds: int) -> None:
        self.requests = 0
        self.errors = 0
        self.ring = [Bucket() for _ in range(window_seconds)]

    def add(self, second: int, error: bool) -> None:
        bucket = self.ring[second % len(self.ring)]
        if bucket.second != second:
            bucket.second, bucket.requests, bucket.errors = second, 0, 0
        bucket.requests += 1
        self.requests += 1
        if error:
            bucket.errors += 1
            self.errors += 1

    def per_second(self, now: int) -> tuple[float, float]:
        """Requests and errors per second over the window that ends with second `now`."""
        window = len(self.ring)
        recent = [bucket for bucket in self.ring if now - window < bucket.second <= now]
        requests = sum(bucket.requests for bucket in recent)
        errors = sum(bucket.errors for bucket in recent)
        return round(requests / window, 2), round(errors / window, 2)


class Traffic:
    """The counters of every route of the table, by prefix."""

    def __init__(
        self,
        routes: RouteTable,
        window_seconds: int = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.routes = routes
        self.window_seconds = window_seconds
        self.clock = clock
        self.counters = {route.prefix: RouteCounters(window_seconds) for route in routes.routes}

    def count(self, prefix: str, status: int) -> None:
        self.counters[prefix].add(int(self.clock()), status >= 500)

    def report(self) -> list[dict[str, Any]]:
        now = int(self.clock())
        rows = []
        for route in sorted(self.routes.routes, key=lambda route: route.prefix):
            counters = self.counters[route.prefix]
            requests_per_second, errors_per_second = counters.per_second(now)
            rows.append(
                {
                    "prefix": route.prefix,
                    "service": route.service,
                    "requests": counters.requests,
                    "errors": counters.errors,
                    "requests_per_second": requests_per_second,
                    "errors_per_second": errors_per_second,
                }
            )
        return rows


class StatusBoard:
    """The whole answer: this worker's traffic and the instances it balances over."""

    def __init__(self, traffic: Traffic, upstreams: Upstreams) -> None:
        self.traffic = traffic
        self.upstreams = upstreams
        self.services = sorted({route.service for route in traffic.routes.routes})

    def report(self) -> dict[str, Any]:
        generated_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        return {
            "worker": str(os.getpid()),
            "generated_at": generated_at.replace("+00:00", "Z"),
            "window_seconds": self.traffic.window_seconds,
            "routes": self.traffic.report(),
            "instances": [row for service in self.services for row in self.instances(service)],
        }

    def instances(self, service: str) -> list[dict[str, Any]]:
        """Every instance of the service in the discovery cache, breaker state included."""
        rows = []
        for instance in self.upstreams.discovery.instances(service):
            key = instance_key(instance)
            breaker = self.upstreams.breakers.peek(key, instance.get("registered_at"))
            rows.append(
                {
                    "service": service,
                    "instance_id": key,
                    "host": instance["host"],
                    "port": instance["port"],
                    "breaker": breaker.state if breaker else CLOSED,
                    "ejections": breaker.ejections if breaker else 0,
                    "outstanding": self.upstreams.balancer.outstanding.get(key, 0),
                }
            )
        return rows


def register_status(app: Flask, board: StatusBoard) -> None:
    app.extensions["gateway.status"] = board
    app.register_blueprint(bp)


@bp.get("/gateway/status")
def status() -> Response:
    response = jsonify(current_app.extensions["gateway.status"].report())
    response.headers["Cache-Control"] = "no-store"  # a live view: never an old copy
    return response
