"""Correlation: a request id on every request.

`X-Request-ID` is kept when the client sent a sensible one, made otherwise,
sent to the upstream and returned on every response, errors included. The
W3C trace context (`traceparent`) is OpenTelemetry's: the gateway's server
span continues the client's trace or starts one, and each call upstream is
a child span whose context goes with it (polyshop_common.telemetry). Every
answer says which trace it belongs to in a `traceresponse` header (W3C
Trace Context Level 2), so a client can open the trace of what it just did.
"""

from __future__ import annotations

import re

from flask import Flask, Response, g, request

from gateway.ids import random_hex
from polyshop_common.telemetry import carrier

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")


def register_request_id(app: Flask) -> None:
    app.before_request(assign_ids)
    app.after_request(echo_request_id)


def assign_ids() -> None:
    sent = request.headers.get("X-Request-ID", "")
    g.request_id = sent if REQUEST_ID_PATTERN.match(sent) else random_hex(128)


def echo_request_id(response: Response) -> Response:
    request_id = g.get("request_id") or random_hex(128)
    response.headers["X-Request-ID"] = request_id
    # The gateway's server span, in traceparent's format.
    if traceparent := carrier().get("traceparent"):
        response.headers["traceresponse"] = traceparent
    return response
