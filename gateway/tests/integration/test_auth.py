"""Tokens in, identity on: who may pass, and what the upstream is told."""

from __future__ import annotations

import time

import jwt
import pytest
import requests

from gateway.config import Config
from polyshop_common.signing import SigningKey, service_claims, user_claims


def test_issues_a_signed_user_token_with_issuer_and_audience(gateway):
    response = requests.post(
        gateway.url + "/auth/token", json={"username": "bob", "password": "builder"}, timeout=5
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    key = gateway.app.config["GATEWAY"].signing_key
    header = jwt.get_unverified_header(body["access_token"])
    assert (header["alg"], header["kid"]) == ("EdDSA", key.kid)
    claims = jwt.decode(
        body["access_token"],
        key.private_key.public_key(),
        algorithms=["EdDSA"],
        audience="polyshop",
        issuer=gateway.app.config["GATEWAY"].issuer,
    )
    assert claims["sub"] == "bob"
    assert claims["exp"] - claims["iat"] == 3600


def test_publishes_its_metadata_and_public_keys_only(gateway):
    issuer = gateway.app.config["GATEWAY"].issuer
    metadata = gateway.get("/.well-known/openid-configuration").json()
    assert metadata["issuer"] == issuer
    assert metadata["jwks_uri"] == issuer + "/.well-known/jwks.json"
    keys = gateway.get("/.well-known/jwks.json").json()["keys"]
    kid = gateway.app.config["GATEWAY"].signing_key.kid
    assert [(k["kid"], k["kty"], k["crv"], k["alg"]) for k in keys] == [
        (kid, "OKP", "Ed25519", "EdDSA")
    ]
    assert "d" not in keys[0]  # the private part never leaves


@pytest.mark.parametrize(
    "body",
    [{"username": "alice", "password": "wrong"}, {"username": "mallory", "password": "x"}],
    ids=["wrong_password", "unknown_user"],
)
def test_refuses_a_token_for_bad_credentials(gateway, body):
    response = requests.post(gateway.url + "/auth/token", json=body, timeout=5)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"


def test_limits_failed_log_ins_per_user_name_even_with_the_right_password(gateway):
    attempts = [
        requests.post(
            gateway.url + "/auth/token", json={"username": "bob", "password": "x"}, timeout=5
        ).status_code
        for _ in range(8)
    ]
    assert attempts[:5] == [401] * 5
    assert set(attempts[5:]) == {429}
    right = requests.post(
        gateway.url + "/auth/token", json={"username": "bob", "password": "builder"}, timeout=5
    )
    assert right.status_code == 429
    assert int(right.headers["Retry-After"]) > 0
    # Another user is not locked out by bob's attacker.
    assert gateway.token("alice")


def test_limits_failed_log_ins_per_address_across_user_names(gateway):
    statuses = [
        requests.post(
            gateway.url + "/auth/token",
            json={"username": f"guess-{n}", "password": "x"},
            timeout=5,
        ).status_code
        for n in range(35)
    ]
    assert statuses[:30] == [401] * 30
    assert set(statuses[30:]) == {429}


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


def bad_authorization(kind: str, config: Config) -> str | None:
    """An Authorization header the gateway must refuse, of the given kind."""
    now, key, issuer = int(time.time()), config.signing_key, config.issuer
    user = user_claims(issuer, "alice", 60, now)
    return {
        "missing": lambda: None,
        "not_bearer": lambda: "Basic YWxpY2U6d29uZGVybGFuZA==",
        "garbage": lambda: "Bearer not.a.token",
        "expired": lambda: "Bearer " + key.sign(user | {"iat": now - 100, "exp": now - 10}),
        "alg_none": lambda: (
            "Bearer " + jwt.encode(user, None, algorithm="none", headers={"kid": key.kid})
        ),
        "other_key": lambda: "Bearer " + SigningKey.generate().sign(user),
        "hs256": lambda: "Bearer " + jwt.encode(user, "s" * 32, "HS256", headers={"kid": key.kid}),
        "no_subject": lambda: "Bearer " + key.sign({k: v for k, v in user.items() if k != "sub"}),
        "other_issuer": lambda: "Bearer " + key.sign(user | {"iss": "http://evil.test"}),
        "three_years": lambda: "Bearer " + key.sign(user | {"exp": now + 3 * 365 * 86400}),
        "service_subject": lambda: "Bearer " + key.sign(user | {"sub": "service:anything"}),
        "service_token": lambda: (
            "Bearer " + key.sign(service_claims(issuer, "notifications", "orders", now))
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
        "other_key",
        "hs256",
        "no_subject",
        "other_issuer",
        "three_years",
        "service_subject",
        "service_token",
    ],
)
def test_refuses_a_protected_route_without_a_valid_user_token(gateway, echo_pair, kind):
    gateway.wait_for("echo", 2)
    authorization = bad_authorization(kind, gateway.app.config["GATEWAY"])
    headers = {"Authorization": authorization} if authorization else {}
    response = gateway.get("/api/private", headers=headers)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["detail"] in {
        "This route needs a bearer token.",
        "The bearer token is not valid.",
    }


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
