import pytest
from flask import Flask

from polyshop_common.problems import PROBLEM_CONTENT_TYPE, Problem, register_problem_handlers


@pytest.fixture
def client():
    app = Flask(__name__)
    register_problem_handlers(app)

    @app.post("/things")
    def create_thing():
        raise Problem(409, "Conflict", "that thing exists", headers={"X-Why": "dup"}, sku="A-1")

    @app.get("/boom")
    def boom():
        raise RuntimeError("a bug")

    return app.test_client()


def test_a_raised_problem_becomes_problem_json_with_its_extensions(client):
    response = client.post("/things")
    assert response.status_code == 409
    assert response.content_type == PROBLEM_CONTENT_TYPE
    assert response.headers["X-Why"] == "dup"
    assert response.json == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "that thing exists",
        "instance": "/things",
        "sku": "A-1",
    }


@pytest.mark.parametrize(
    ("method", "path", "status"), [("get", "/nowhere", 404), ("get", "/things", 405)]
)
def test_werkzeug_errors_become_problem_json(client, method, path, status):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response.content_type == PROBLEM_CONTENT_TYPE
    assert response.json["status"] == status


def test_an_unexpected_exception_is_a_500_problem_without_internals(client, caplog):
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.content_type == PROBLEM_CONTENT_TYPE
    assert "a bug" not in response.get_data(as_text=True)
    assert "unhandled error" in caplog.text
