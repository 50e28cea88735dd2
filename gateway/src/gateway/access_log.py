"""One JSON access-log line per request, written when the response is ready.

For a streamed response the duration is the time to its first byte.
"""

from __future__ import annotations

import logging
import time

from gateway.balancer import instance_key
from gateway.call import Call

log = logging.getLogger("gateway.access")


def write_line(call: Call, status: int, cache: str | None) -> None:
    request = call.request
    log.info(
        "%s %s %s",
        request.method,
        request.path,
        status,
        extra={
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": round((time.perf_counter() - call.started) * 1000, 2),
            "request_id": call.request_id,
            "client": request.remote_addr,
            "user": call.user,
            "route_service": call.route.service if call.route else None,
            "upstream": instance_key(call.upstream) if call.upstream else None,
            "cache": cache,
        },
    )
