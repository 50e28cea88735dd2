import time

import jwt
import pytest
from flask import Flask

from polyshop_common.identity import (
    InvalidToken,
    Principal,
    require_principal,
    service_token,
    verify_token,
)
from polyshop_common.problems import register_problem_handlers

SECRET = "a-test-secret-of-at-least-32-bytes"


def user_token(sub="alice", secret=SECRET, **claims):
    now = int(time.time())
    return jwt.encode({"sub": sub, "iat": now, "exp": now + 60} | claims, secret, "HS256")


def test_a_user_token_gives_a_user_principal():
    assert verify_token(user_token(), SECRET) == Principal("alice", is_service=False)


def test_a_service_token_gives_a_service_principal_that_may_read_anything():
    principal = verify_token(service_token("notifications", SECRET), SECRET)
    assert principal == Principal("service:notifications", is_service=True)
    assert principal.may_read("bob")


@pytest.mark.parametrize(
    "token",
    [
        user_token(secret="another-secret-of-at-least-32-bytes"),
        user_token(exp=int(time.time()) - 60),
        jwt.encode({"sub": "alice"}, SECRET, "HS256"),  # no exp
        jwt.encode({"exp": int(time.time()) + 60}, SECRET, "HS256"),  # no sub
        jwt.encode({"sub": "alice", "exp": int(time.time()) + 60}, None, "none"),
        "not-a-jwt",
    ],
    ids=["wrong-secret", "expired", "no-exp", "no-sub", "alg-none", "garbage"],
)
def test_rejects_a_token_that_is_not_ours_or_not_complete(token):
    with pytest.raises(InvalidToken):
        verify_token(token, SECRET)


@pytest.fixture
def client():
    app = Flask(__name__)
    app.config["JWT_SECRET"] = SECRET
    register_problem_handlers(app)

    @app.get("/me")
    def me():
        return {"name": require_principal().name}

    return app.test_client()


def test_require_principal_reads_the_bearer_token(client):
    response = client.get("/me", headers={"Authorization": f"Bearer {user_token()}"})
    assert response.json == {"name": "alice"}


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer ", "Bearer nonsense"])
def test_require_principal_answers_401_with_a_challenge(client, header):
    response = client.get("/me", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.content_type == "application/problem+json"


def test_an_x_user_header_alone_proves_nothing(client):
    assert client.get("/me", headers={"X-User": "alice"}).status_code == 401
