"""The front door: requests the gateway refuses before routing them.

gunicorn's parser (see gunicorn.conf.py and worker.py) already refuses a
request whose head is too large, too slow, folded, or framed two ways at
once (`Content-Length` with `Transfer-Encoding`). This step refuses, with
`400`, what that parser lets through but a server behind the gateway could
read differently from the gateway:

- a `Transfer-Encoding` other than plain `chunked` (`gzip, chunked`): the
  gateway forwards the decoded body, so only one framing may exist;
- a path with a `.` or `..` segment, also percent-encoded (`%2e%2e`): routed
  as written but climbed out of by an upstream that resolves it;
- a path with an encoded `/` or `\\` (`%2f`, `%5c`) or a bare `\\`: one
  segment to the gateway, two to an upstream that decodes before it splits.

Browsers never send any of these: they resolve dot segments and encode
nothing else that way.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Flask, Response
from gunicorn.http.errors import ParseException
from werkzeug.wrappers import Request

from polyshop_common.problems import Problem, problem_response

log = logging.getLogger(__name__)

ENCODED_SEPARATOR = re.compile(r"%2f|%5c|\\", re.IGNORECASE)
BROKEN_BODY = "The request body is not valid HTTP/1.1."


def register_front_door(app: Flask) -> None:
    """The gateway's own endpoints (Flask) read bodies too: a chunked body is
    read, and found broken, by the view, after the front door's checks."""
    app.register_error_handler(ParseException, refuse_broken_body)


def check_request(request: Request) -> None:
    """Policy step: refuse a request an upstream could read differently."""
    coding = request.headers.get("Transfer-Encoding")
    if coding is not None and coding.strip().lower() != "chunked":
        log.warning("refused Transfer-Encoding %r", coding)
        raise Problem(400, "Bad request", "The only transfer coding accepted is chunked.")
    reason = path_refusal(raw_path(request.environ, request.path))
    if reason:
        log.warning("refused path %r: %s", request.environ.get("RAW_URI", request.path), reason)
        raise Problem(400, "Bad request", reason)


def raw_path(environ: dict[str, Any], decoded: str) -> str:
    """The path as the client wrote it (still percent-encoded), no query."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or decoded
    if not raw.startswith("/"):  # the absolute form: http://host/path
        raw = urlsplit(raw).path or "/"
    return raw.partition("?")[0]


def path_refusal(path: str) -> str | None:
    """Why an upstream could misread this raw path, or None when it cannot."""
    if ENCODED_SEPARATOR.search(path):
        return "The path has an encoded / or a \\."
    if has_dot_segment(path):
        return "The path has a . or .. segment."
    return None


def has_dot_segment(path: str) -> bool:
    return any(unquote(segment) in (".", "..") for segment in path.split("/"))


def broken_body(error: ParseException) -> Problem:
    log.warning("refused a request body: %s", error)
    return Problem(400, "Bad request", BROKEN_BODY)


def refuse_broken_body(error: ParseException) -> Response:
    problem = broken_body(error)
    return problem_response(problem.status, problem.title, problem.detail)
