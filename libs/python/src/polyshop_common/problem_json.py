"""The one shape of every HTTP error of polyshop: RFC 9457 problem JSON.

Here without Flask, so that a server can answer before (or without) its
app, and a gunicorn master can import it without the app's libraries
(polyshop_common.problems makes the same bodies from a Flask app).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_body(status: int, title: str, detail: str | None = None, **members: Any) -> dict:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(members)
    return body


def raw_problem(
    status: int, title: str, detail: str | None = None, headers: dict[str, str] | None = None
) -> bytes:
    """A whole HTTP/1.1 problem+json response as bytes, for a server to send
    before (or without) the app: a request its parser refused, a connection
    over its cap. The connection closes after it."""
    payload = json.dumps(problem_body(status, title, detail)).encode()
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        f"Content-Type: {PROBLEM_CONTENT_TYPE}",
        f"Content-Length: {len(payload)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + payload
