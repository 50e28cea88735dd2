"""Correlation: a request id and a W3C trace context on every request.

`X-Request-ID` is kept when the client sent a sensible one, made otherwise,
sent to the upstream and returned on every response, errors included. The
`traceparent` keeps the client's trace id (or starts a new trace) with a
fresh parent id for the gateway's own hop, as the W3C Trace Context asks.
"""

from __future__ import annotations

import random
import re

from flask import Flask, Response, g, request

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")
TRACEPARENT_PATTERN = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def random_hex(bits: int) -> str:
    """Unique enough for correlation, and no system call per id (unlike
    `uuid4` or `secrets`): ids are not secrets. `random` is reseeded in each
    forked worker, so workers do not repeat each other's ids."""
    return f"{random.getrandbits(bits):0{bits // 4}x}"


def register_request_id(app: Flask) -> None:
    app.before_request(assign_ids)
    app.after_request(echo_request_id)


def assign_ids() -> None:
    sent = request.headers.get("X-Request-ID", "")
    g.request_id = sent if REQUEST_ID_PATTERN.match(sent) else random_hex(128)
    g.traceparent = next_traceparent(request.headers.get("traceparent", ""))


def next_traceparent(incoming: str) -> str:
    match = TRACEPARENT_PATTERN.match(incoming.strip())
    if match and match.group(1) != "0" * 32:
        trace_id, flags = match.group(1), match.group(3)
    else:
        trace_id, flags = random_hex(128), "01"
    return f"00-{trace_id}-{random_hex(64)}-{flags}"


def echo_request_id(response: Response) -> Response:
    request_id = g.get("request_id") or random_hex(128)
    response.headers["X-Request-ID"] = request_id
    return response
