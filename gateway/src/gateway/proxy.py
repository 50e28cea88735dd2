"""The proxy: send a request to its route's service, pass the answer back.

By the time `forward` runs, the policy steps before it (edge.py) have
matched the route, checked the token and the rate limit, and looked in the
cache. What is left is the hop itself: rewrite the path, choose the headers
the upstream sees, call it through `Upstreams`, and pass its status, headers
and body back unchanged (a `text/event-stream` body chunk by chunk;
`Set-Cookie` and a redirect's `Location` as the service wrote them).
"""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.exceptions import MethodNotAllowed

from gateway.call import Call, Reply
from gateway.routes import API_PREFIX, upstream_path
from gateway.upstreams import Exchange, Upstreams
from polyshop_common.body import read_request_body

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


def forward(upstreams: Upstreams, call: Call, max_body_bytes: int) -> Reply:
    request, route = call.request, call.route
    if request.method not in METHODS:
        raise MethodNotAllowed(valid_methods=METHODS)
    exchange = upstreams.send(
        route.service,
        request.method,
        upstream_path(request.environ, request.path, request.query_string, route.strips),
        headers=outbound_headers(call),
        body=read_request_body(request, max_body_bytes),
        timeout=route.timeout_seconds,
        retries=route.retries if is_idempotent(call) else 0,
    )
    call.upstream = exchange.instance
    return to_reply(call, exchange)


def is_idempotent(call: Call) -> bool:
    """Safe to send twice: GET, HEAD, or a POST the service deduplicates by key."""
    method = call.request.method
    if method in ("GET", "HEAD"):
        return True
    return method == "POST" and "Idempotency-Key" in call.request.headers


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


def outbound_headers(call: Call) -> dict[str, str]:
    """The client's end-to-end headers, minus identity ones, plus the gateway's."""
    request = call.request
    hop_only = connection_scoped(request.headers.getlist("Connection"))
    headers = {
        name: value
        for name, value in request.headers.items()
        if not hop_only(name) and name.lower() not in NOT_FORWARDED and not is_identity_header(name)
    }
    if call.user:
        headers["X-User"] = call.user
    # The gateway is the first hop: what a client claims about earlier hops
    # is not kept (it would let any client pick the address services log
    # and rate-limit by).
    headers["X-Forwarded-For"] = request.remote_addr or ""
    headers["X-Forwarded-Host"] = request.host
    headers["X-Forwarded-Proto"] = request.scheme
    # Services build links (a Location header) as the client sees them; a
    # route outside /api is sent its path unchanged, so it has no prefix.
    prefix = call.route.strips if call.route else API_PREFIX
    if prefix:
        headers["X-Forwarded-Prefix"] = prefix
    headers["X-Request-ID"] = call.request_id
    # `traceparent` is left to the urllib3 instrumentation: the context of the
    # call's own client span, not the client's (telemetry.py).
    return headers


def to_reply(call: Call, exchange: Exchange) -> Reply:
    """The upstream's answer as the client gets it: its status, its
    end-to-end headers (no Content-Type added where it sent none), its body."""
    upstream = exchange.headers
    hop_only = connection_scoped(upstream.getlist("Connection"))
    headers = [
        (name, value)
        for name, value in upstream.iteritems()
        if not hop_only(name) and name.lower() != "content-length"
    ]
    if exchange.is_stream:
        headers.append(("X-Accel-Buffering", "no"))  # tell proxies in front not to buffer
        return Reply(exchange.status, headers, stream=exchange.stream())
    if call.request.method == "HEAD" and "Content-Length" in upstream:
        headers.append(("Content-Length", upstream["Content-Length"]))  # what a GET would get
    return Reply(exchange.status, headers, exchange.read())
