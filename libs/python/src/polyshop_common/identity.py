"""Who is calling: a user (from the gateway's JWT) or another service.

Services trust only a JWT they verify themselves (HS256, JWT_SECRET), never
an `X-User` header: a request sent straight to a service's port cannot claim
to be anyone. Service-to-service calls carry a short-lived JWT whose subject
is `service:NAME`; users are never named like that.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt
from flask import current_app, request

from polyshop_common.problems import Problem

ALGORITHM = "HS256"
SERVICE_PREFIX = "service:"
LEEWAY_SECONDS = 5  # clocks of two machines never agree exactly
CONFIG_KEY = "JWT_SECRET"


@dataclass(frozen=True)
class Principal:
    name: str
    is_service: bool = False

    def may_read(self, owner: str) -> bool:
        """Users read their own things; services read everything."""
        return self.is_service or self.name == owner


class InvalidToken(Exception):
    pass


def verify_token(token: str, secret: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],  # a fixed list: "none" and others are refused
            options={"require": ["sub", "exp"]},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("sub must be a non-empty string")
    return Principal(subject, is_service=subject.startswith(SERVICE_PREFIX))


def service_token(service_name: str, secret: str, ttl: int = 60) -> str:
    """A JWT for calling another service as `service:NAME`, valid `ttl` seconds."""
    now = int(time.time())
    claims = {"sub": SERVICE_PREFIX + service_name, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def require_principal() -> Principal:
    """The verified caller of the current request, or a 401 problem."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("A bearer token is required.")
    try:
        return verify_token(token.strip(), current_app.config[CONFIG_KEY])
    except InvalidToken as error:
        raise _unauthorized(f"The bearer token is not valid: {error}.") from error


def _unauthorized(detail: str) -> Problem:
    challenge = 'Bearer realm="polyshop"'
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": challenge})
