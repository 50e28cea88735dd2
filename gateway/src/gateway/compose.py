"""API composition: one request, three services, answered in parallel.

`GET /api/orders/{id}/details` asks orders, payments and notifications at
once and returns `{"order", "payments", "notifications", "errors"}`. A part
that fails is `null` and is described in `errors` while the rest is still
returned (graceful degradation); only a `404` from orders, whose order it is,
is a `404` for the whole. The route's auth and rate limit apply as for any
`/api/orders` request, and each part uses its own route's timeout.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from typing import Any
from urllib.parse import quote

from gateway.call import Call, Reply, json_reply
from gateway.proxy import outbound_headers, to_reply
from gateway.routes import RouteTable
from gateway.upstreams import Exchange, Upstreams
from polyshop_common.problems import Problem

DEFAULT_TIMEOUT_SECONDS = 5.0
# The composed view's path, and its name in spans and metrics.
PATH = re.compile(r"^/api/orders/([^/]+)/details$")
TEMPLATE = "/api/orders/<order_id>/details"


class Composer:
    def __init__(self, upstreams: Upstreams, routes: RouteTable, max_workers: int = 32) -> None:
        self.upstreams = upstreams
        self.routes = routes
        self.executor = ThreadPoolExecutor(max_workers, thread_name_prefix="compose")

    def fetch(self, service: str, path: str, headers: dict[str, str]) -> Exchange:
        route = self.routes.for_service(service)
        return self.upstreams.send(
            service,
            "GET",
            path,
            headers=headers,
            timeout=route.timeout_seconds if route else DEFAULT_TIMEOUT_SECONDS,
            retries=route.retries if route else 0,
        )

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def composed_order(call: Call) -> str | None:
    """The order id of a request for the composed view; None for any other request."""
    if call.request.method not in ("GET", "HEAD"):
        return None
    found = PATH.match(call.request.path)
    return found.group(1) if found else None


def order_details(composer: Composer, call: Call, order_id: str) -> Reply:
    headers = outbound_headers(call)
    key = quote(order_id, safe="")
    parts = {
        "order": ("orders", f"/orders/{key}"),
        "payments": ("payments", f"/payments?order_id={key}"),
        "notifications": ("notifications", f"/notifications?order_id={key}"),
    }
    futures = {
        # In the request's context: its span is the parent of each call's.
        name: composer.executor.submit(copy_context().run, composer.fetch, service, path, headers)
        for name, (service, path) in parts.items()
    }
    outcomes = {name: outcome(future) for name, future in futures.items()}
    order = outcomes["order"]
    if isinstance(order, Exchange) and order.status == 404:
        for other in outcomes.values():
            if isinstance(other, Exchange) and other is not order:
                other.close()
        return to_reply(call, order)  # not this user's order, or no such order
    body: dict[str, Any] = {"errors": []}
    for name, result in outcomes.items():
        body[name] = read_part(name, result, body["errors"])
    return json_reply(200, body)


def outcome(future: Future[Exchange]) -> Exchange | Problem:
    try:
        return future.result()
    except Problem as problem:
        return problem


def read_part(name: str, result: Exchange | Problem, errors: list[dict[str, Any]]) -> Any:
    """The part's JSON, or None with an entry in `errors` saying what went wrong."""
    try:
        if isinstance(result, Problem):
            raise result
        status, payload = result.status, result.read()
        if status != 200:
            raise Problem(status, "Upstream answered with an error")
        return json.loads(payload)
    except Problem as problem:
        errors.append({"part": name, "status": problem.status, "title": problem.title})
    except ValueError:
        errors.append({"part": name, "status": 502, "title": "Upstream answered with invalid JSON"})
    return None
