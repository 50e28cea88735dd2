"""Reading a request body with a size limit that holds for every way of sending it.

With a `Content-Length` above the limit, Werkzeug answers 413 before reading
anything. A chunked body (no `Content-Length`) is different: Werkzeug reads
it up to the limit and stops there without an error, so a view would get the
first `max_bytes` of a longer body, cut off, as if it were all of it. One
byte left in the (server-terminated) stream after the limit means the body
was too large.
"""

from __future__ import annotations

from flask import request as current_request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def read_body(max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> bytes:
    """The whole body of Flask's current request; 413 if it is longer than `max_bytes`."""
    return read_request_body(current_request, max_bytes)


def read_request_body(request: Request, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> bytes:
    """The whole body of a Werkzeug request; 413 if it is longer than `max_bytes`."""
    request.max_content_length = max_bytes
    body = request.get_data()
    # Only a stream the server ends itself may be read past the body: with a
    # Content-Length, the next byte is the next request's (or never comes).
    chunked = request.content_length is None
    if chunked and len(body) >= max_bytes and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()
    return body
