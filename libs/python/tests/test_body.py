import io
import json

import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder, run_wsgi_app

from polyshop_common.body import read_body
from polyshop_common.problems import PROBLEM_CONTENT_TYPE, register_problem_handlers

LIMIT = 16


@pytest.fixture
def app():
    app = Flask(__name__)
    register_problem_handlers(app)

    @app.post("/echo")
    def echo():
        return read_body(LIMIT)

    return app


def chunked(app, body: bytes) -> tuple[int, str, bytes]:
    """Send a body without Content-Length, as gunicorn hands a chunked request
    on (the test client would always add the length)."""
    environ = EnvironBuilder(path="/echo", method="POST").get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["wsgi.input_terminated"] = True
    chunks, status, headers = run_wsgi_app(app.wsgi_app, environ, buffered=True)
    return int(status.split()[0]), headers.get("Content-Type"), b"".join(chunks)


@pytest.mark.parametrize("size", [0, 1, LIMIT])
def test_a_body_up_to_the_limit_is_read_whole(app, size):
    body = b"x" * size
    assert app.test_client().post("/echo", data=body).data == body
    assert chunked(app, body) == (200, "text/html; charset=utf-8", body)


def test_a_body_with_a_length_above_the_limit_is_a_413_problem(app):
    response = app.test_client().post("/echo", data=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.content_type == PROBLEM_CONTENT_TYPE


@pytest.mark.parametrize("extra", [1, 1000])
def test_a_chunked_body_above_the_limit_is_a_413_problem_not_cut_off(app, extra):
    status, content_type, body = chunked(app, b"x" * (LIMIT + extra))
    assert (status, content_type) == (413, PROBLEM_CONTENT_TYPE)
    assert json.loads(body)["status"] == 413
