"""Authentication: the gateway is the one token issuer; protected routes check tokens.

`POST /auth/token` trades a user's name and password for a JWT signed with
the gateway's private Ed25519 key (`iss` this gateway, `aud` "polyshop").
The issuer's public endpoints (metadata, keys, service tokens for services'
own calls) come from polyshop_common.issuer, registered here too.

On a route that needs auth, the `authenticate` step accepts only a user
token this gateway signed, unexpired, within the lifetime cap; a service
token is refused at the public door. The user goes upstream as `X-User`
beside the unchanged `Authorization` header, and every service verifies
the token again itself, with the public keys.

Failed log-ins are limited per user name and per client address, so
guessing a password costs an attacker the window, not milliseconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

import jwt
from flask import Blueprint, Flask, current_app, request

from gateway.call import Call
from gateway.users import Users
from polyshop_common.identity import (
    InvalidToken,
    TokenVerifier,
    register_identity,
    unauthorized,
)
from polyshop_common.issuer import Issuer, register_issuer
from polyshop_common.problems import Problem
from polyshop_common.signing import user_claims

log = logging.getLogger(__name__)

EXTENSION = "gateway.auth"

bp = Blueprint("auth", __name__)


class OwnKeys:
    """The gateway verifies its own tokens with its own public keys, no HTTP."""

    def __init__(self, issuer: Issuer) -> None:
        self.issuer = issuer

    def key_for(self, token: str) -> object:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as error:
            raise InvalidToken(f"unreadable header: {error}") from error
        for key in (self.issuer.key, *self.issuer.retired):
            if key.kid == kid:
                return key.private_key.public_key()
        raise InvalidToken(f"unknown key id {kid!r}")


class LoginLimiter:
    """Failed log-ins per key (a user name, an address) in a sliding window.

    Counted in this worker's memory, as the rate limit is: with several
    workers each allows the limit (a shared store such as Redis makes it one).
    """

    def __init__(
        self,
        per_user: int,
        per_address: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.limits = {"user": per_user, "address": per_address}
        self.window = window_seconds
        self.clock = clock
        self.max_keys = max_keys
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, user: str, address: str) -> int:
        """Seconds until a log-in may be tried again; 0 when it may be now."""
        now = self.clock()
        with self._lock:
            waits = [
                self._wait(("user", user), now),
                self._wait(("address", address), now),
            ]
        return max(waits)

    def failed(self, user: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) >= self.max_keys:
                self._forget_old(now)
            for key in (("user", user), ("address", address)):
                self._failures.setdefault(key, deque()).append(now)

    def _wait(self, key: tuple[str, str], now: float) -> int:
        times = self._failures.get(key)
        if not times:
            return 0
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) < self.limits[key[0]]:
            return 0
        return max(1, int(times[0] + self.window - now) + 1)

    def _forget_old(self, now: float) -> None:
        for key in [k for k, t in self._failures.items() if not t or t[-1] <= now - self.window]:
            del self._failures[key]


class UserTokens:
    def __init__(self, issuer: Issuer, users: Users, ttl_seconds: int) -> None:
        self.issuer = issuer
        self.users = users
        self.ttl_seconds = ttl_seconds

    def issue(self, username: str, password: str) -> str | None:
        if not self.users.check(username, password):
            return None
        claims = user_claims(self.issuer.url, username, self.ttl_seconds, int(time.time()))
        return self.issuer.key.sign(claims)


def own_token_verifier(issuer: Issuer) -> TokenVerifier:
    """Checks user tokens this gateway signed, with its own keys."""
    return TokenVerifier(issuer.url, None, OwnKeys(issuer))


def register_auth(
    app: Flask,
    issuer: Issuer,
    verifier: TokenVerifier,
    users: Users,
    ttl_seconds: int,
    limiter: LoginLimiter,
) -> None:
    app.extensions[EXTENSION] = (UserTokens(issuer, users, ttl_seconds), limiter)
    register_issuer(app, issuer)
    register_identity(app, verifier)
    app.register_blueprint(bp)


@bp.post("/auth/token")
def issue_token():
    body = _json_body()
    if not isinstance(body, dict) or not all(
        isinstance(body.get(key), str) for key in ("username", "password")
    ):
        raise Problem(400, "Bad request", 'Send {"username": "...", "password": "..."}.')
    tokens, limiter = current_app.extensions[EXTENSION]
    username, address = body["username"], request.remote_addr or "unknown"
    wait = limiter.retry_after(username, address)
    if wait:
        log.warning(
            "log-ins refused: too many failures",
            extra={"security_event": "login_throttled", "client": address},
        )
        raise Problem(
            429,
            "Too Many Requests",
            "Too many failed log-ins; try again later.",
            headers={"Retry-After": str(wait)},
        )
    token = tokens.issue(username, body["password"])
    if token is None:
        limiter.failed(username, address)
        raise Problem(401, "Unauthorized", "Unknown user or wrong password.")
    return {"access_token": token, "token_type": "Bearer", "expires_in": tokens.ttl_seconds}


def _json_body() -> object:
    """The JSON body, or None when there is none that parses (nested too deep included)."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def authenticate(verifier: TokenVerifier, call: Call) -> None:
    """Policy step: on a route that needs auth, find the user or answer 401."""
    if call.route is None or not call.route.auth:
        return
    scheme, _, token = call.request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("This route needs a bearer token.")
    try:
        principal = verifier.verify(token.strip())
    except InvalidToken as error:
        log.info("bearer token refused", extra={"reason": str(error)})
        raise unauthorized("The bearer token is not valid.", invalid=True) from None
    call.user = principal.name
