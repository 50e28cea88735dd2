"""RFC 9457 problem responses for every Flask piece of polyshop.

`register_problem_handlers(app)` makes every error the app can produce, its
own or Werkzeug's (404, 405, 413, 415, an unhandled exception), an
`application/problem+json` body, so clients parse one error shape everywhere.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

from polyshop_common.problem_json import PROBLEM_CONTENT_TYPE, problem_body

log = logging.getLogger(__name__)


class Problem(Exception):
    """An error that becomes a problem response: raise it from any view."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> Response:
    response = jsonify(problem_body(status, title, detail, instance=request.path, **extensions))
    response.status_code = status
    response.content_type = PROBLEM_CONTENT_TYPE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register_problem_handlers(app: Flask) -> None:
    app.register_error_handler(Problem, _from_problem)
    app.register_error_handler(HTTPException, _from_http_exception)
    app.register_error_handler(Exception, _from_unexpected)


def _from_problem(error: Problem) -> Response:
    return problem_response(
        error.status, error.title, error.detail, headers=error.headers, **error.extensions
    )


def _from_http_exception(error: HTTPException) -> Response:
    return _from_problem(as_problem(error, f"{request.method} {request.path}"))


def as_problem(error: HTTPException, where: str) -> Problem:
    """Werkzeug's error in the status's own words: an instance's description
    can carry a parser's message (a JSON decode error, say), which is for
    the log, with `where` it happened."""
    status = error.code or 500
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    if error.description != type(error).description:
        log.info("%s on %s: %s", status, where, error.description)
    return Problem(status, error.name, type(error).description, headers=headers)


def _from_unexpected(error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _from_http_exception(InternalServerError())
