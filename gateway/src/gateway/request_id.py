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

from gateway.call import Call
from gateway.ids import random_hex
from polyshop_common.telemetry import carrier

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")


def assign_id(call: Call) -> None:
    sent = call.request.headers.get("X-Request-ID", "")
    call.request_id = sent if REQUEST_ID_PATTERN.match(sent) else random_hex(128)


def correlation_headers(call: Call) -> list[tuple[str, str]]:
    """The request id, and the server span's context in traceparent's format."""
    headers = [("X-Request-ID", call.request_id)]
    if traceparent := carrier().get("traceparent"):
        headers.append(("traceresponse", traceparent))
    return headers
