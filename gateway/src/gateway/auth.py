"""Authentication: demo users get HS256 tokens; protected routes check them.

`POST /auth/token` trades a demo user's name and password for a JWT signed
with JWT_SECRET. On a route that needs auth, the `authenticate` step accepts
only a token this gateway could have signed, not expired, and tells the
upstream who the user is with `X-User`. The same `Authorization` header goes
on unchanged, so a service can verify the token itself and a request sent
straight to a service's port cannot claim to be anyone.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

import jwt
from flask import Blueprint, Flask, current_app, g, request

from polyshop_common.problems import Problem

ALGORITHM = "HS256"

bp = Blueprint("auth", __name__)


class TokenIssuer:
    def __init__(
        self,
        secret: str,
        users: dict[str, str],
        ttl_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secret = secret
        self.users = users
        self.ttl_seconds = ttl_seconds
        self.clock = clock

    def issue(self, username: str, password: str) -> str | None:
        expected = self.users.get(username)
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            return None
        now = int(self.clock())
        claims = {"sub": username, "iat": now, "exp": now + self.ttl_seconds}
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> str:
        """The token's user; raises jwt.InvalidTokenError for any bad token.

        Naming the one accepted algorithm is what refuses `alg: none` and
        tokens signed some other way.
        """
        claims = jwt.decode(
            token,
            self.secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp", "iat"]},
        )
        return str(claims["sub"])


def register_auth(app: Flask, issuer: TokenIssuer) -> None:
    app.extensions["gateway.auth"] = issuer
    app.register_blueprint(bp)
    app.before_request(authenticate)


@bp.post("/auth/token")
def issue_token():
    body = _json_body()
    if not isinstance(body, dict) or not all(
        isinstance(body.get(key), str) for key in ("username", "password")
    ):
        raise Problem(400, "Bad request", 'Send {"username": "...", "password": "..."}.')
    issuer: TokenIssuer = current_app.extensions["gateway.auth"]
    token = issuer.issue(body["username"], body["password"])
    if token is None:
        raise Problem(401, "Unauthorized", "Unknown user or wrong password.")
    return {"access_token": token, "token_type": "Bearer", "expires_in": issuer.ttl_seconds}


def _json_body() -> object:
    """The JSON body, or None when there is none that parses (nested too deep included)."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def authenticate() -> None:
    """Policy step: on a route that needs auth, find the user or answer 401."""
    g.user = None
    route = g.get("route")
    if route is None or not route.auth:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(
            401,
            "Unauthorized",
            "This route needs a bearer token.",
            headers={"WWW-Authenticate": 'Bearer realm="polyshop"'},
        )
    try:
        g.user = current_app.extensions["gateway.auth"].verify(token.strip())
    except jwt.InvalidTokenError as error:
        raise Problem(
            401,
            "Unauthorized",
            f"The bearer token is not valid: {error}.",
            headers={"WWW-Authenticate": 'Bearer realm="polyshop", error="invalid_token"'},
        ) from None
