"""The gateway's gunicorn worker: gunicorn's gevent worker, with problem bodies.

gunicorn parses every request head itself and refuses a malformed one
before the app sees it. Its own error page is plain text that quotes the
parser's message (and with it the client's bytes); this worker answers the
same refusals as `application/problem+json` in the gateway's own words, and
logs what the parser said.
"""

from __future__ import annotations

import logging

from gunicorn.http.errors import (
    ConfigurationProblem,
    ExpectationFailed,
    InvalidResponseHeader,
    InvalidResponseHeaderName,
    LimitRequestHeaders,
    LimitRequestLine,
    ParseException,
)
from gunicorn.workers.ggevent import GeventWorker

from gateway.ids import random_hex
from polyshop_common.problem_json import raw_problem

log = logging.getLogger(__name__)

SERVER_ERROR = (500, "Internal server error", None)
BAD_REQUEST = (400, "Bad request", "The request is not valid HTTP/1.1 or is framed ambiguously.")
# First match wins: a bad header the app sent is the gateway's fault, not the client's.
REFUSALS: list[tuple[tuple[type[Exception], ...], tuple[int, str, str | None]]] = [
    ((InvalidResponseHeader, InvalidResponseHeaderName, ConfigurationProblem), SERVER_ERROR),
    ((LimitRequestLine,), (414, "URI too long", "The request line is too long.")),
    (
        (LimitRequestHeaders,),
        (431, "Request header fields too large", "Too many or too large headers."),
    ),
    (
        (ExpectationFailed,),
        (417, "Expectation failed", "The only expectation met is 100-continue."),
    ),
    ((ParseException,), BAD_REQUEST),
]


def refusal(error: BaseException) -> tuple[int, str, str | None]:
    """Status, reason and detail for what the parser (or the worker) raised."""
    for kind, answer in REFUSALS:
        if isinstance(error, kind):
            return answer
    return SERVER_ERROR


def problem_bytes(status: int, reason: str, detail: str | None) -> bytes:
    """A whole HTTP/1.1 response; the connection closes after it."""
    return raw_problem(status, reason, detail, {"X-Request-ID": random_hex(128)})


class GatewayWorker(GeventWorker):
    def handle_error(self, req, client, addr, exc) -> None:
        status, reason, detail = refusal(exc)
        address = addr[0] if addr else ""
        if status == 500:
            log.error("error before the app answered a request from %s", address, exc_info=exc)
        else:
            log.warning("refused a request from %s with %d: %s", address, status, exc)
        try:
            client.sendall(problem_bytes(status, reason, detail))
        except OSError:
            log.debug("could not send the refusal: the client is gone")
