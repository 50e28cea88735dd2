"""Routes as configuration: a path prefix, the service behind it, a policy.

The table is read from a YAML file (see routes.yaml beside this module) at
start-up. `register_routes(app)` adds the first policy step of every `/api`
request: find its route, or answer 404 when no route matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from flask import Flask, current_app, g, request

from polyshop_common.problems import Problem

API_PREFIX = "/api"


@dataclass(frozen=True)
class RateLimit:
    rate: float  # tokens added per second
    burst: int  # bucket size: requests allowed at once


@dataclass(frozen=True)
class Route:
    prefix: str
    service: str
    auth: bool = True
    timeout_seconds: float = 5.0
    retries: int = 1
    rate_limit: RateLimit | None = None
    cache_ttl_seconds: float = 0.0

    def matches(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")


class RouteTable:
    def __init__(self, routes: list[Route]) -> None:
        # Longest prefix first, so /api/orders/x never falls to a shorter /api route.
        self.routes = sorted(routes, key=lambda route: len(route.prefix), reverse=True)

    def match(self, path: str) -> Route | None:
        return next((route for route in self.routes if route.matches(path)), None)

    def for_service(self, service: str) -> Route | None:
        return next((route for route in self.routes if route.service == service), None)


def load_routes(path: Path) -> RouteTable:
    document = yaml.safe_load(Path(path).read_text())
    defaults = document.get("defaults", {})
    return RouteTable([_route({**defaults, **entry}) for entry in document["routes"]])


def _route(entry: dict[str, Any]) -> Route:
    prefix = entry["prefix"].rstrip("/")
    if not prefix.startswith(API_PREFIX + "/"):
        raise ValueError(f"route prefix {prefix!r} must start with {API_PREFIX}/")
    limit = entry.get("rate_limit")
    return Route(
        prefix=prefix,
        service=entry["service"],
        auth=bool(entry.get("auth", True)),
        timeout_seconds=float(entry.get("timeout_seconds", 5)),
        retries=int(entry.get("retries", 1)),
        rate_limit=RateLimit(float(limit["rate"]), int(limit["burst"])) if limit else None,
        cache_ttl_seconds=float(entry.get("cache_ttl_seconds", 0)),
    )


def upstream_path(environ: dict[str, Any], path: str, query: bytes) -> str:
    """The path and query sent upstream: as the client wrote them, minus `/api`."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    if not raw.startswith(API_PREFIX + "/"):
        raw = quote(path) + ("?" + query.decode("latin-1") if query else "")
    return raw[len(API_PREFIX) :]


def register_routes(app: Flask, table: RouteTable) -> None:
    app.extensions["gateway.routes"] = table
    app.before_request(match_route)


def match_route() -> None:
    g.route = None
    if request.path != API_PREFIX and not request.path.startswith(API_PREFIX + "/"):
        return
    g.route = current_app.extensions["gateway.routes"].match(request.path)
    if g.route is None:
        raise Problem(404, "Unknown service", f"No route serves {request.path}.")
