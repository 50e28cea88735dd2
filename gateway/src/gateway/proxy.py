"""The proxy: send a request to its route's service, pass the answer back.

By the time `forward` runs, the policy steps registered before it have
matched the route, checked the token and the rate limit, and looked in the
cache. What is left is the hop itself: rewrite the path, choose the headers
the upstream sees, call it through `Upstreams`, and pass its status, headers
and body back unchanged (a `text/event-stream` body chunk by chunk;
`Set-Cookie` and a redirect's `Location` as the service wrote them).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, g, request
from werkzeug.exceptions import NotFound

from gateway.routes import API_PREFIX, RoutedPath, upstream_path
from gateway.upstreams import Exchange, Upstreams
from polyshop_common.body import read_body

# Headers that describe one connection, not the message, are never passed
# on, either way: these, every `Proxy-*` one, and those the message's own
# `Connection` names (RFC 9110 7.6.1), which its sender meant for this hop
# alone.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Headers the gateway sets itself, whatever the client sent.
GATEWAY_SET = frozenset(
    {
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-forwarded-prefix",
        "x-request-id",
        "traceparent",
    }
)
NOT_FORWARDED = GATEWAY_SET | {"host", "content-length"}
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

bp = Blueprint("proxy", __name__)


def register_proxy(app: Flask, upstreams: Upstreams, max_body_bytes: int) -> None:
    app.extensions["gateway.upstreams"] = upstreams
    # 413 for a larger body: before it is read when it has a Content-Length,
    # by read_body when it comes chunked.
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    app.url_map.converters["routed"] = RoutedPath  # before the rules that use it
    app.register_blueprint(bp)


# Every path may have a route: the API's under /api, the storefront's at /.
# The gateway's own endpoints are more specific rules, so Werkzeug picks
# them first; `routed` keeps their paths out of the catch-all even for a
# method they do not accept.
@bp.route("/api/<path:rest>", methods=METHODS)
@bp.route("/", methods=METHODS)
@bp.route("/<routed:rest>", methods=METHODS)
def forward(rest: str = "") -> Response:
    route = g.route
    if route is None:  # a path outside /api that no route serves
        raise NotFound()
    upstreams: Upstreams = current_app.extensions["gateway.upstreams"]
    exchange = upstreams.send(
        route.service,
        request.method,
        upstream_path(request.environ, request.path, request.query_string, route.strips),
        headers=outbound_headers(),
        body=read_body(current_app.config["MAX_CONTENT_LENGTH"]),
        timeout=route.timeout_seconds,
        retries=route.retries if is_idempotent() else 0,
    )
    g.upstream = exchange.instance
    return to_response(exchange)


def is_idempotent() -> bool:
    """Safe to send twice: GET, HEAD, or a POST the service deduplicates by key."""
    if request.method in ("GET", "HEAD"):
        return True
    return request.method == "POST" and "Idempotency-Key" in request.headers


def is_identity_header(name: str) -> bool:
    lowered = name.lower()
    return lowered == "x-user" or lowered.startswith("x-user-")


def connection_scoped(connection_values: list[str]) -> Callable[[str], bool]:
    """Whether a header belongs to this hop only, given the `Connection` values."""
    named = {token.strip().lower() for value in connection_values for token in value.split(",")}

    def scoped(name: str) -> bool:
        lowered = name.lower()
        return lowered in HOP_BY_HOP or lowered in named or lowered.startswith("proxy-")

    return scoped


def outbound_headers() -> dict[str, str]:
    """The client's end-to-end headers, minus identity ones, plus the gateway's."""
    hop_only = connection_scoped(request.headers.getlist("Connection"))
    headers = {
        name: value
        for name, value in request.headers.items()
        if not hop_only(name) and name.lower() not in NOT_FORWARDED and not is_identity_header(name)
    }
    if g.get("user"):
        headers["X-User"] = g.user
    # The gateway is the first hop: what a client claims about earlier hops
    # is not kept (it would let any client pick the address services log
    # and rate-limit by).
    headers["X-Forwarded-For"] = request.remote_addr or ""
    headers["X-Forwarded-Host"] = request.host
    headers["X-Forwarded-Proto"] = request.scheme
    # Services build links (a Location header) as the client sees them; a
    # route outside /api is sent its path unchanged, so it has no prefix.
    prefix = g.route.strips if g.get("route") else API_PREFIX
    if prefix:
        headers["X-Forwarded-Prefix"] = prefix
    headers["X-Request-ID"] = g.request_id
    # `traceparent` is left to the urllib3 instrumentation: the context of the
    # call's own client span, not the client's (telemetry.py).
    return headers


def to_response(exchange: Exchange) -> Response:
    upstream = exchange.headers
    hop_only = connection_scoped(upstream.getlist("Connection"))
    headers = [
        (name, value)
        for name, value in upstream.iteritems()
        if not hop_only(name) and name.lower() != "content-length"
    ]
    if exchange.is_stream:
        response = Response(exchange.stream(), exchange.status, headers)
        response.headers["X-Accel-Buffering"] = "no"  # tell proxies in front not to buffer
    else:
        response = Response(exchange.read(), exchange.status, headers)
    if "Content-Type" not in upstream:
        del response.headers["Content-Type"]  # add none the upstream did not send
    if request.method == "HEAD" and "Content-Length" in upstream:
        response.headers["Content-Length"] = upstream["Content-Length"]  # what a GET would get
    return response
