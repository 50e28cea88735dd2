"""Routes as configuration: a path prefix, the service behind it, a policy.

The table is read from a YAML file (see routes.yaml beside this module) at
start-up. `match_route` is the first policy step of every request (edge.py):
find its route, or answer 404.

Two kinds of route share the table. A route under `/api` (the public API)
loses `/api` on the way upstream. A route outside it (`/`, the storefront's
pages) is sent on unchanged, and catches only what nothing else does: the
`/api` paths and the gateway's own endpoints never reach it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from werkzeug.exceptions import NotFound

from gateway.front_door import has_dot_segment
from polyshop_common.problems import Problem

API_PREFIX = "/api"
# What the gateway answers itself: the API (whose routes are all under /api)
# and its own endpoints. A route outside /api never gets these paths.
GATEWAY_PATHS = (
    API_PREFIX,
    "/livez",
    "/healthz",
    "/readyz",
    "/auth",
    "/gateway",
    "/oauth",
    "/.well-known",
    # An operator's, never the public's: the gateway serves its own on its
    # metrics port and routes nobody's (metrics.py).
    "/metrics",
)
# "/" or "/segment/segment...": no empty, "." or ".." segment.
PREFIX_PATTERN = re.compile(r"^/$|^(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+$")


def is_under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def is_gateway_path(path: str) -> bool:
    return any(is_under(path, own) for own in GATEWAY_PATHS)


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

    @property
    def strips(self) -> str:
        """What the path loses on the way upstream: `/api`, or nothing outside it."""
        return API_PREFIX if self.prefix.startswith(API_PREFIX + "/") else ""

    def matches(self, path: str) -> bool:
        return self.prefix == "/" or is_under(path, self.prefix)


class RouteTable:
    def __init__(self, routes: list[Route]) -> None:
        # Longest prefix first, so /api/orders/x never falls to a shorter /api route.
        self.routes = sorted(routes, key=lambda route: len(route.prefix), reverse=True)
        self._api = [route for route in self.routes if route.strips]
        self._outside = [route for route in self.routes if not route.strips]

    def match(self, path: str) -> Route | None:
        if is_under(path, API_PREFIX):
            candidates = self._api
        elif is_gateway_path(path):
            return None
        else:
            candidates = self._outside
        return next((route for route in candidates if route.matches(path)), None)

    def for_service(self, service: str) -> Route | None:
        return next((route for route in self.routes if route.service == service), None)


def load_routes(path: Path) -> RouteTable:
    document = yaml.safe_load(Path(path).read_text())
    defaults = document.get("defaults", {})
    return RouteTable([_route({**defaults, **entry}) for entry in document["routes"]])


def _route(entry: dict[str, Any]) -> Route:
    limit = entry.get("rate_limit")
    return Route(
        prefix=_prefix(entry["prefix"]),
        service=entry["service"],
        auth=bool(entry.get("auth", True)),
        timeout_seconds=float(entry.get("timeout_seconds", 5)),
        retries=int(entry.get("retries", 1)),
        rate_limit=RateLimit(float(limit["rate"]), int(limit["burst"])) if limit else None,
        cache_ttl_seconds=float(entry.get("cache_ttl_seconds", 0)),
    )


def _prefix(text: str) -> str:
    prefix = text.rstrip("/") or "/"
    if not PREFIX_PATTERN.match(prefix):
        raise ValueError(f"route prefix {text!r} is not a path like /api/orders or /")
    if prefix == API_PREFIX:
        raise ValueError(f"a route under {API_PREFIX} names its service: {API_PREFIX}/NAME")
    if is_gateway_path(prefix) and not is_under(prefix, API_PREFIX):
        raise ValueError(f"route prefix {prefix!r} is a path the gateway answers itself")
    return prefix


def upstream_path(environ: dict[str, Any], path: str, query: bytes, strip: str = API_PREFIX) -> str:
    """The path and query sent upstream: as the client wrote them, minus `strip`.

    The raw form keeps what decoding would change. Under /api the result
    always starts with the route's own segment; a path sent unchanged has no
    such anchor, so one an upstream could misread is refused: `//host` reads
    as a host to URL parsers, and a `.` or `..` segment climbs out of what
    the route serves. The front door refuses the latter for every route
    already; this check holds even without it. Browsers never send either
    (they resolve them first).
    """
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    if not raw.startswith(strip + "/"):
        raw = quote(path) + ("?" + query.decode("latin-1") if query else "")
    forwarded = raw[len(strip) :]
    if not strip and not is_plain_path(forwarded.partition("?")[0]):
        raise Problem(400, "Bad request", "The path starts with // or has a . or .. segment.")
    return forwarded


def is_plain_path(path: str) -> bool:
    return not path.startswith("//") and not has_dot_segment(path)


def match_route(table: RouteTable, path: str) -> Route:
    """Policy step: the request's route, or 404."""
    route = table.match(path)
    if route is not None:
        return route
    if is_under(path, API_PREFIX):
        raise Problem(404, "Unknown service", f"No route serves {path}.")
    raise NotFound()  # a path outside /api that no route serves
