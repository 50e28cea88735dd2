"""Heartbeats renewed without Flask's request machinery.

Ten thousand instances renewing every 5 s are 2,000 heartbeats a second,
nearly all of the registry's work, and Flask's request context, routing
and response building were a quarter of each one's CPU (ADR 0002, "Later:
the registry at Eureka's scale"). This WSGI middleware renews a lease in
the common case (a known instance, and the credential that owns it) with
the same checks, the same store call and the same metrics as the views. Every other request,
and any heartbeat it cannot renew, goes on to Flask unchanged, so that
errors are answered in one place: the views of api.py and eureka.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from polyshop_common.metrics import metric
from polyshop_common.problems import Problem
from registry.auth import authenticate
from registry.context import EXTENSION
from registry.metrics import HEARTBEATS
from registry.models import SERVICE_NAME
from registry.serialize import compact_json, lease_json
from registry.store import NotTheOwner

V1 = re.compile(r"/v1/services/([^/]+)/instances/([^/]+)/heartbeat")
EUREKA = re.compile(r"/eureka/apps/([^/]+)/([^/]+)")
JSON_HEADERS = [("Content-Type", "application/json")]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class HeartbeatFastPath:
    def __init__(self, app: Flask) -> None:
        self._flask: WSGIApp = app.wsgi_app
        self._state = app.extensions[EXTENSION]
        self._duration = metric("http_server_request_duration_seconds")
        # The views' route templates, so the request metrics read the same either way.
        rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
        self._v1_route, self._eureka_route = rules["api.heartbeat"], rules["eureka.renew"]

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "PUT":
            started = time.perf_counter()
            renewed = self._renew(environ["PATH_INFO"], environ.get("HTTP_AUTHORIZATION", ""))
            if renewed is not None:
                route, body = renewed
                length = [("Content-Length", str(len(body)))]
                start_response("200 OK", JSON_HEADERS + length if body else length)
                self._duration.labels("PUT", route, "200").observe(time.perf_counter() - started)
                return [body]
        return self._flask(environ, start_response)

    def _renew(self, path: str, authorization: str) -> tuple[str, bytes] | None:
        """(route, body) once the lease is renewed; None: let the views answer."""
        if match := V1.fullmatch(path):
            service, eureka = match[1], False
        elif match := EUREKA.fullmatch(path):
            service, eureka = match[1].lower(), True
        else:
            return None
        if not SERVICE_NAME.fullmatch(service):
            return None
        settings, store = self._state.settings, self._state.store
        try:
            credential = authenticate(authorization, settings.credentials)
            if not credential.may_write(service):
                return None
            instance = store.heartbeat(service, match[2], credential.name)
        except (Problem, NotTheOwner):
            return None
        if instance is None:
            return None
        HEARTBEATS.labels(service).inc()
        if eureka:
            return self._eureka_route, b""  # Eureka's renewal answers 200 with no body
        ttl = instance.lease_seconds or settings.lease_ttl_seconds
        body = compact_json(lease_json(instance, ttl))
        return self._v1_route, body
