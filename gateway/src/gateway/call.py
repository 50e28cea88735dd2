"""One request on its way through the gateway, and the answer it gets.

A `Call` is what the policy steps read and write as a request passes them
(edge.py): the request itself (Werkzeug's, over the WSGI environ), its id,
the route it matched, the user its token names, the rate-limit verdict,
the cache key and the instance that answered. A `Reply` is the answer
before it is sent: a status, headers, and a body or a stream.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from polyshop_common.problem_json import PROBLEM_CONTENT_TYPE, problem_body
from polyshop_common.problems import Problem

if TYPE_CHECKING:
    from gateway.routes import Route


@dataclass(slots=True, eq=False)
class Call:
    request: Request
    started: float  # perf_counter() when the request came in
    request_id: str = ""
    route: Route | None = None
    route_name: str = ""  # in spans and metrics: the route's prefix, or the composed view's
    user: str | None = None
    rate_limit: Any = None  # the ratelimit.Decision taken for it
    cache_base: tuple[str, str] | None = None  # set when its answer may be stored
    upstream: dict[str, Any] | None = None  # the instance that answered


@dataclass(slots=True, eq=False)
class Reply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: Iterator[bytes] | None = None  # sent chunk by chunk instead of `body`

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)

    def headers_named(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]

    def set_header(self, name: str, value: str) -> None:
        lowered = name.lower()
        self.headers = [(key, old) for key, old in self.headers if key.lower() != lowered]
        self.headers.append((name, value))


def json_reply(status: int, document: Any, content_type: str = "application/json") -> Reply:
    body = json.dumps(document, sort_keys=True).encode()
    return Reply(status, [("Content-Type", content_type)], body)


def problem_reply(call: Call, problem: Problem) -> Reply:
    body = problem_body(
        problem.status,
        problem.title,
        problem.detail,
        instance=call.request.path,
        **problem.extensions,
    )
    reply = json_reply(problem.status, body, PROBLEM_CONTENT_TYPE)
    reply.headers.extend(problem.headers.items())
    return reply
