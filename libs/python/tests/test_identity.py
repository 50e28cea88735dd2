"""Token rules against a real issuer over HTTP (LocalIssuer serves the
gateway's own issuer endpoints): each hostile shape of docs/security.md."""

import base64
import json
import time

import jwt
import pytest
from flask import Flask

from polyshop_common.identity import (
    InvalidToken,
    IssuerKeys,
    Principal,
    ServiceTokenError,
    ServiceTokens,
    TokenVerifier,
    register_identity,
    require_principal,
)
from polyshop_common.local_issuer import LocalIssuer
from polyshop_common.problems import register_problem_handlers
from polyshop_common.signing import SigningKey

CLIENT_SECRET = "n" * 43


@pytest.fixture(scope="module")
def issuer():
    issuer = LocalIssuer({"notifications": (CLIENT_SECRET, ["orders"])})
    yield issuer
    issuer.close()


@pytest.fixture
def orders(issuer):
    """The verifier the orders service builds."""
    return TokenVerifier(issuer.url, "orders")


def test_a_user_token_gives_a_user_principal(issuer, orders):
    assert orders.verify(issuer.user_token("alice")) == Principal("alice", is_service=False)


def test_a_service_token_made_out_to_this_service_gives_a_service_principal(issuer, orders):
    principal = orders.verify(issuer.service_token("notifications", "orders"))
    assert principal == Principal("service:notifications", is_service=True)
    assert principal.may_read("anyone")


HOSTILE_KINDS = [
    "signed by another key with the issuer's key id",
    "signed by another key of its own",
    "another issuer",
    "no audience",
    "a service token for another service",
    "a user token claiming to be a service",
    "a service token with the users' audience",
    "a user token longer than an hour",
    "a service token longer than five minutes",
    "expired",
    "no iat",
    "HS256 with the public key as secret",
    "alg none",
]


def hostile_tokens(issuer):
    now = int(time.time())
    other_key = SigningKey.generate()
    return {
        "signed by another key with the issuer's key id": _with_kid(
            other_key.sign(_user(issuer, now)), issuer.key.kid
        ),
        "signed by another key of its own": other_key.sign(_user(issuer, now)),
        "another issuer": issuer.user_token(iss="http://evil.example"),
        "no audience": issuer.sign({k: v for k, v in _user(issuer, now).items() if k != "aud"}),
        "a service token for another service": issuer.service_token("notifications", "payments"),
        "a user token claiming to be a service": issuer.user_token("service:notifications"),
        "a service token with the users' audience": issuer.service_token(
            "notifications", "orders", aud="polyshop"
        ),
        "a user token longer than an hour": issuer.user_token(ttl=3 * 365 * 86400),
        "a service token longer than five minutes": issuer.service_token(
            "notifications", "orders", exp=now + 3600
        ),
        "expired": issuer.user_token(iat=now - 120, exp=now - 60),
        "no iat": issuer.sign({k: v for k, v in _user(issuer, now).items() if k != "iat"}),
        "HS256 with the public key as secret": _hs256(issuer),
        "alg none": _unsigned(_user(issuer, now), issuer.key.kid),
    }


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
def test_hostile_tokens_are_refused(issuer, orders, kind):
    token = hostile_tokens(issuer)[kind]
    with pytest.raises(InvalidToken):
        orders.verify(token)


def test_the_gateway_verifier_accepts_no_service_token(issuer):
    gateway = TokenVerifier(issuer.url, None)
    with pytest.raises(InvalidToken):
        gateway.verify(issuer.service_token("notifications", "orders"))


def test_a_rotated_key_is_fetched_once_its_id_is_seen(issuer):
    orders = TokenVerifier(issuer.url, "orders", IssuerKeys(issuer.url, cooldown_seconds=0))
    before = issuer.user_token()
    orders.verify(before)  # the first key set is cached
    issuer.rotate()
    assert orders.verify(issuer.user_token()) == Principal("alice")
    assert orders.verify(before) == Principal("alice")  # the old key is still published


def test_unknown_key_ids_do_not_refetch_on_every_request(issuer, monkeypatch):
    keys = IssuerKeys(issuer.url)
    calls = []
    refetch = keys._refetch
    monkeypatch.setattr(keys, "_refetch", lambda: calls.append(1) or refetch())
    for n in range(5):
        with pytest.raises(InvalidToken):
            keys.key_for(_with_kid(issuer.user_token(), f"made-up-{n}"))
    assert len(calls) == 1


class CountingKeys:
    """The issuer's keys, counting how often a signature had to be checked."""

    def __init__(self, issuer_url: str) -> None:
        self.keys = IssuerKeys(issuer_url)
        self.asked = 0

    def key_for(self, token: str):
        self.asked += 1
        return self.keys.key_for(token)


def test_a_token_verified_once_is_not_checked_again_until_it_expires(issuer):
    now = [time.time()]
    keys = CountingKeys(issuer.url)
    orders = TokenVerifier(issuer.url, "orders", keys, clock=lambda: now[0])
    token = issuer.user_token("alice", ttl=60)
    for _ in range(3):
        assert orders.verify(token) == Principal("alice")
    assert keys.asked == 1
    assert orders.verify(issuer.user_token("bob")) == Principal("bob")
    assert keys.asked == 2
    now[0] += 60 + 5  # exp and the leeway passed, by the verifier's clock: decoded again
    orders.verify(token)  # (PyJWT, on the real clock, still finds it valid)
    assert keys.asked == 3


def test_a_refused_token_is_refused_every_time(issuer):
    keys = CountingKeys(issuer.url)
    orders = TokenVerifier(issuer.url, "orders", keys)
    forged = issuer.user_token("alice")[:-4] + "AAAA"
    for _ in range(2):
        with pytest.raises(InvalidToken):
            orders.verify(forged)
    assert keys.asked == 2


@pytest.fixture
def client(issuer):
    app = Flask(__name__)
    register_problem_handlers(app)
    register_identity(app, TokenVerifier(issuer.url, "orders"))

    @app.get("/whoami")
    def whoami():
        return {"name": require_principal().name}

    return app.test_client()


def test_require_principal_reads_the_bearer_token(issuer, client):
    response = client.get("/whoami", headers={"Authorization": f"Bearer {issuer.user_token()}"})
    assert response.json == {"name": "alice"}


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer ", "Bearer not.a.jwt"])
def test_require_principal_answers_401_naming_no_library_message(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/whoami", headers=headers)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="polyshop"')
    assert response.json["detail"] in {
        "A bearer token is required.",
        "The bearer token is not valid.",
    }


def test_service_tokens_come_from_the_issuer_and_are_kept(issuer, orders):
    now = [1000.0]
    tokens = ServiceTokens(issuer.url, "notifications", CLIENT_SECRET, clock=lambda: now[0])
    first = tokens.for_service("orders")
    assert orders.verify(first) == Principal("service:notifications", is_service=True)
    assert tokens.for_service("orders") == first
    now[0] += 120 * 0.75 + 1  # past the renewal point
    renewed = tokens.for_service("orders")
    assert orders.verify(renewed).name == "service:notifications"
    assert tokens.for_service("orders") == renewed


@pytest.mark.parametrize(
    ("secret", "callee"),
    [("wrong-secret", "orders"), (CLIENT_SECRET, "payments")],
    ids=["wrong secret", "a callee it may not call"],
)
def test_the_issuer_refuses_wrong_secrets_and_audiences(issuer, secret, callee):
    with pytest.raises(ServiceTokenError):
        ServiceTokens(issuer.url, "notifications", secret).for_service(callee)


def _user(issuer, now):
    return {"iss": issuer.url, "sub": "alice", "aud": "polyshop", "iat": now, "exp": now + 60}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _with_kid(token: str, kid: str) -> str:
    header, payload, signature = token.split(".")
    fields = json.loads(base64.urlsafe_b64decode(header + "=="))
    return ".".join([_b64(json.dumps(fields | {"kid": kid}).encode()), payload, signature])


def _unsigned(claims, kid):
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def _hs256(issuer):
    """The key-confusion attack: the public key used as an HMAC secret."""
    public = base64.urlsafe_b64decode(issuer.key.public_jwk["x"] + "==")
    now = int(time.time())
    header = {"kid": issuer.key.kid}
    return jwt.encode(_user(issuer, now), public * 2, algorithm="HS256", headers=header)


def test_keys_that_cannot_be_fetched_are_a_503_not_a_401():
    app = Flask(__name__)
    register_problem_handlers(app)
    gone = LocalIssuer()
    url = gone.url
    gone.close()  # nothing answers there any more
    register_identity(app, TokenVerifier(url, "orders"))

    @app.get("/whoami")
    def whoami():
        return {"name": require_principal().name}

    token = SigningKey.generate().sign({"sub": "alice"})
    response = app.test_client().get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.content_type == "application/problem+json"


def test_an_unreachable_issuer_is_a_service_token_error():
    gone = LocalIssuer()
    url = gone.url
    gone.close()
    with pytest.raises(ServiceTokenError):
        ServiceTokens(url, "notifications", CLIENT_SECRET).for_service("orders")
