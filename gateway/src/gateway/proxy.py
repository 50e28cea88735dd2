"""The proxy: send an `/api` request to its route's service, pass the answer back.

By the time `forward` runs, the policy steps registered before it have
matched the route, checked the token and the rate limit, and looked in the
cache. What is left is the hop itself: rewrite the path, choose the headers
the upstream sees, call it through `Upstreams`, and pass its status, headers
and body back unchanged (a `text/event-stream` body chunk by chunk).
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, g, request

from gateway.routes import upstream_path
from gateway.upstreams import Exchange, Upstreams
from polyshop_common.body import read_body

# Headers that describe one connection, not the message: never forwarded.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Headers the gateway sets itself (from the client's values where it keeps them).
GATEWAY_SET = frozenset(
    {"x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-request-id", "traceparent"}
)
NOT_FORWARDED = HOP_BY_HOP | GATEWAY_SET | {"host", "content-length"}
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

bp = Blueprint("proxy", __name__)


def register_proxy(app: Flask, upstreams: Upstreams, max_body_bytes: int) -> None:
    app.extensions["gateway.upstreams"] = upstreams
    # 413 for a larger body: before it is read when it has a Content-Length,
    # by read_body when it comes chunked.
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    app.register_blueprint(bp)


@bp.route("/api/<path:rest>", methods=METHODS)
def forward(rest: str) -> Response:
    route = g.route
    upstreams: Upstreams = current_app.extensions["gateway.upstreams"]
    exchange = upstreams.send(
        route.service,
        request.method,
        upstream_path(request.environ, request.path, request.query_string),
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


def outbound_headers() -> dict[str, str]:
    """The client's headers, minus hop-by-hop and identity ones, plus the gateway's."""
    headers = {
        name: value
        for name, value in request.headers.items()
        if name.lower() not in NOT_FORWARDED and not is_identity_header(name)
    }
    if g.get("user"):
        headers["X-User"] = g.user
    forwarded_for = request.headers.get("X-Forwarded-For")
    address = request.remote_addr or ""
    headers["X-Forwarded-For"] = f"{forwarded_for}, {address}" if forwarded_for else address
    headers["X-Forwarded-Host"] = request.host
    headers["X-Forwarded-Proto"] = request.scheme
    # Services build links (a Location header) as the client sees them.
    headers["X-Forwarded-Prefix"] = "/api"
    headers["X-Request-ID"] = g.request_id
    headers["traceparent"] = g.traceparent
    return headers


def to_response(exchange: Exchange) -> Response:
    upstream = exchange.headers
    headers = [
        (name, value)
        for name, value in upstream.iteritems()
        if name.lower() not in HOP_BY_HOP and name.lower() != "content-length"
    ]
    if upstream.get("Content-Type", "").startswith("text/event-stream"):
        response = Response(exchange.stream(), exchange.status, headers)
        response.headers["X-Accel-Buffering"] = "no"  # tell proxies in front not to buffer
    else:
        response = Response(exchange.read(), exchange.status, headers)
    if "Content-Type" not in upstream:
        del response.headers["Content-Type"]  # add none the upstream did not send
    return response
