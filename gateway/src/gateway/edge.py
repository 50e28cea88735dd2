"""The gateway's request path, as plain WSGI: every request but its own endpoints.

`Edge` sits in front of the Flask app that serves the gateway's own
endpoints (health, status, tokens, keys: every path of `GATEWAY_PATHS`
outside /api). Those go to Flask. Every other request, the API under /api
and the storefront's pages, passes the policy steps here, in this order:

    request id -> front door -> route -> auth -> rate limit -> cache -> compose or proxy

and leaves with its request id and `traceresponse`, its rate-limit headers,
one access line, its metrics and its count on the status board. Any step
may answer instead, by raising a problem.

Why not Flask for these too: its request cycle (contexts, hooks, URL
matching, response objects and OpenTelemetry's wrapper of them) was about
a third of the gateway's CPU per proxied request under load, more than the
policy steps themselves (docs/adr/0011-gateway-request-path-in-wsgi.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from gunicorn.http.errors import ParseException
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Request

from gateway import compose
from gateway.access_log import write_line
from gateway.auth import authenticate
from gateway.cache import ResponseCache, serve_from_cache, store_in_cache
from gateway.call import Call, Reply, problem_reply
from gateway.front_door import broken_body, check_request
from gateway.metrics import observe_request
from gateway.proxy import forward
from gateway.ratelimit import RateLimiter, limit_rate, rate_limit_headers
from gateway.request_id import assign_id, correlation_headers
from gateway.routes import API_PREFIX, RouteTable, is_gateway_path, is_under, match_route
from gateway.status import Traffic
from gateway.upstreams import Upstreams
from polyshop_common.identity import TokenVerifier
from polyshop_common.problems import Problem, as_problem
from polyshop_common.telemetry import answered, name_server_span, server_span

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(eq=False)
class Edge:
    own: WSGIApp  # the Flask app of the gateway's own endpoints
    routes: RouteTable
    verifier: TokenVerifier
    limiter: RateLimiter
    cache: ResponseCache
    composer: compose.Composer
    upstreams: Upstreams
    traffic: Traffic
    max_body_bytes: int

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        call = Call(Request(environ), time.perf_counter())
        assign_id(call)
        path = call.request.path
        if is_gateway_path(path) and not is_under(path, API_PREFIX):
            return self.to_own_endpoint(call, start_response)
        with server_span(environ) as span:
            reply = self.answer(call)
            answered(span, reply.status)
            return self.send(call, reply, start_response)

    def answer(self, call: Call) -> Reply:
        """The policy steps, then the composed view or the upstream's answer."""
        where = f"{call.request.method} {call.request.path}"
        try:
            check_request(call.request)
            call.route = match_route(self.routes, call.request.path)
            order_id = compose.composed_order(call)
            call.route_name = compose.TEMPLATE if order_id else call.route.prefix
            name_server_span(call.request.method, call.route_name)
            authenticate(self.verifier, call)
            limit_rate(self.limiter, call)
            if (cached := serve_from_cache(self.cache, call)) is not None:
                return cached
            if order_id is not None:
                reply = compose.order_details(self.composer, call, order_id)
            else:
                reply = forward(self.upstreams, call, self.max_body_bytes)
            store_in_cache(self.cache, call, reply)
            return reply
        except Problem as problem:
            return problem_reply(call, problem)
        except HTTPException as error:
            return problem_reply(call, as_problem(error, where))
        except ParseException as error:  # a chunked body that breaks off or lies
            return problem_reply(call, broken_body(error))
        except Exception:
            log.exception("unhandled error on %s", where)
            return problem_reply(call, as_problem(InternalServerError(), ""))

    def send(self, call: Call, reply: Reply, start_response: Callable[..., Any]):
        headers = [*reply.headers, *rate_limit_headers(call), *correlation_headers(call)]
        if reply.stream is None and reply.header("Content-Length") is None:
            headers.append(("Content-Length", str(len(reply.body))))
        start_response(status_line(reply.status), headers)
        self.account(call, reply.status, reply.header("X-Cache"))
        if call.request.method == "HEAD":
            if reply.stream is not None:
                reply.stream.close()  # nothing of it is sent
            return []
        return reply.stream if reply.stream is not None else [reply.body]

    def account(self, call: Call, status: int, cache: str | None) -> None:
        """The access line, the request's metrics and its count on the status board."""
        if call.route is not None:
            self.traffic.count(call.route.prefix, status)
        seconds = time.perf_counter() - call.started
        observe_request(call.request.method, call.route_name, status, seconds)
        write_line(call, status, cache)

    def to_own_endpoint(self, call: Call, start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Flask answers; the front door, the request id and the access line are the edge's."""
        try:
            check_request(call.request)
        except Problem as problem:
            return self.send(call, problem_reply(call, problem), start_response)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            # Called inside Flask's request, so its span is the current one.
            headers = [*headers, *correlation_headers(call)]
            write_line(call, int(status.split(" ", 1)[0]), None)
            return start_response(status, headers, exc_info)

        return self.own(call.request.environ, start)


def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:  # a code the standard library does not name: the code alone is valid
        return f"{status} "
