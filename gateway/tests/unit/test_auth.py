from __future__ import annotations

import jwt
import pytest

from gateway.auth import TokenIssuer

SECRET = "unit-test-secret-of-at-least-32-bytes"


@pytest.fixture
def issuer(clock) -> TokenIssuer:
    return TokenIssuer(SECRET, {"alice": "wonderland"}, ttl_seconds=60, clock=clock)


def test_issues_a_token_that_verifies_to_its_user(issuer):
    token = issuer.issue("alice", "wonderland")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert (claims["sub"], claims["exp"] - claims["iat"]) == ("alice", 60)


@pytest.mark.parametrize(("user", "password"), [("alice", "wrong"), ("bob", "wonderland")])
def test_issues_nothing_for_bad_credentials(issuer, user, password):
    assert issuer.issue(user, password) is None


def test_refuses_a_token_after_it_expired(clock):
    old = TokenIssuer(SECRET, {"alice": "wonderland"}, ttl_seconds=60, clock=lambda: 0)
    token = old.issue("alice", "wonderland")
    with pytest.raises(jwt.ExpiredSignatureError):
        TokenIssuer(SECRET, {}, 60, clock).verify(token)


def test_refuses_alg_none(issuer):
    token = jwt.encode({"sub": "alice", "iat": 0, "exp": 2**33}, None, algorithm="none")
    with pytest.raises(jwt.InvalidAlgorithmError):
        issuer.verify(token)


def test_refuses_a_token_signed_with_another_secret(issuer):
    token = jwt.encode({"sub": "alice", "iat": 0, "exp": 2**33}, SECRET + "!", algorithm="HS256")
    with pytest.raises(jwt.InvalidSignatureError):
        issuer.verify(token)
