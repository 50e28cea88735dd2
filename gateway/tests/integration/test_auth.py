"""Tokens in, identity on: who may pass, and what the upstream is told."""

from __future__ import annotations

import time

import jwt
import pytest
import requests


def test_issues_a_bearer_token_for_a_demo_user(gateway):
    response = requests.post(
        gateway.url + "/auth/token", json={"username": "bob", "password": "builder"}, timeout=5
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    secret = gateway.app.config["GATEWAY"].jwt_secret
    assert jwt.decode(body["access_token"], secret, algorithms=["HS256"])["sub"] == "bob"


@pytest.mark.parametrize(
    "body",
    [{"username": "alice", "password": "wrong"}, {"username": "mallory", "password": "x"}],
    ids=["wrong_password", "unknown_user"],
)
def test_refuses_a_token_for_bad_credentials(gateway, body):
    response = requests.post(gateway.url + "/auth/token", json=body, timeout=5)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "body", ["not json", "[" * 50_000 + "]" * 50_000], ids=["not_json", "nested_too_deep"]
)
def test_refuses_a_malformed_token_request_with_400(gateway, body):
    response = requests.post(
        gateway.url + "/auth/token",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"


def _token(secret: str, algorithm: str = "HS256", **claims) -> str:
    now = int(time.time())
    return jwt.encode({"sub": "alice", "iat": now, "exp": now + 60, **claims}, secret, algorithm)


def bad_authorization(kind: str, secret: str) -> str | None:
    """An Authorization header the gateway must refuse, of the given kind."""
    return {
        "missing": lambda: None,
        "not_bearer": lambda: "Basic YWxpY2U6d29uZGVybGFuZA==",
        "garbage": lambda: "Bearer not.a.token",
        "expired": lambda: "Bearer " + _token(secret, exp=int(time.time()) - 10),
        "alg_none": lambda: (
            "Bearer " + jwt.encode({"sub": "alice", "iat": 0, "exp": 2**33}, None, algorithm="none")
        ),
        "wrong_secret": lambda: "Bearer " + _token("another-secret-of-at-least-32-bytes!"),
        "other_algorithm": lambda: "Bearer " + _token(secret * 2, algorithm="HS512"),
        "no_subject": lambda: (
            "Bearer " + jwt.encode({"iat": 0, "exp": 2**33}, secret, algorithm="HS256")
        ),
    }[kind]()


@pytest.mark.parametrize(
    "kind",
    [
        "missing",
        "not_bearer",
        "garbage",
        "expired",
        "alg_none",
        "wrong_secret",
        "other_algorithm",
        "no_subject",
    ],
)
def test_refuses_a_protected_route_without_a_valid_token(gateway, echo_pair, kind):
    gateway.wait_for("echo", 2)
    authorization = bad_authorization(kind, gateway.app.config["GATEWAY"].jwt_secret)
    headers = {"Authorization": authorization} if authorization else {}
    response = gateway.get("/api/private", headers=headers)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_tells_the_upstream_the_user_and_ignores_a_forged_user_header(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    headers = {**gateway.auth("alice"), "X-User": "bob", "X-User-Roles": "admin"}
    sent = gateway.get("/api/private", headers=headers).json()["headers"]
    assert sent["x-user"] == "alice"
    assert "x-user-roles" not in sent
    # The token itself goes on too, so the service can check it on its own.
    assert sent["authorization"] == headers["Authorization"]


def test_strips_a_forged_user_header_on_a_public_route(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    sent = gateway.get("/api/echo", headers={"X-User": "bob"}).json()["headers"]
    assert "x-user" not in sent
