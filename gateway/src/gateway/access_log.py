"""One JSON access-log line per request, written when the response is ready.

For a streamed response the duration is the time to its first byte.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from gateway.balancer import instance_key

log = logging.getLogger("gateway.access")


def register_access_log(app: Flask) -> None:
    app.before_request(start_clock)
    app.after_request(write_line)


def start_clock() -> None:
    g.started = time.perf_counter()


def write_line(response: Response) -> Response:
    started = g.get("started", time.perf_counter())
    route = g.get("route")
    upstream = g.get("upstream")
    log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "request_id": g.get("request_id"),
            "client": request.remote_addr,
            "user": g.get("user"),
            "route_service": route.service if route else None,
            "upstream": instance_key(upstream) if upstream else None,
            "cache": response.headers.get("X-Cache"),
        },
    )
    return response
