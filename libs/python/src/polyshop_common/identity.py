"""Who is calling: a user or another service, told by a token the gateway signed.

The gateway is the one issuer (docs/security.md). It signs with a private
Ed25519 key; services hold only its public keys, fetched from the issuer's
metadata (`/.well-known/openid-configuration`, then `jwks_uri`), cached, and
fetched again when a token names a key id not seen yet (rotation). So no
service can mint a token, and a request sent straight to a service's port
cannot claim to be anyone.

Two kinds of token, told apart by audience (contracts/auth.json):

- a user's: `aud` = "polyshop", `sub` = the user;
- a service's: `aud` = "service:<callee>", `sub` = "service:<caller>",
  obtained with the caller's own client secret (`ServiceTokens`).

A service accepts a user token, or a service token made out to itself; not a
user token dressed as a service, nor one service's token at another.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import jwt
import requests
from flask import current_app, request

from polyshop_common.problems import Problem
from polyshop_common.telemetry import untraced
from polyshop_common.token_rules import RULES

log = logging.getLogger(__name__)

EXTENSION = "polyshop.identity"
# An unknown key id refetches the key set at most this often: a stream of
# made-up key ids must not turn every request into a call to the issuer.
REFETCH_COOLDOWN_SECONDS = 30.0
VERIFIED_TOKENS_KEPT = 1024  # verdicts kept, by last use


@dataclass(frozen=True)
class Principal:
    name: str
    is_service: bool = False

    def may_read(self, owner: str) -> bool:
        """Users read their own things; services read everything."""
        return self.is_service or self.name == owner


class InvalidToken(Exception):
    """The token is not one to trust; the message is for the log only."""


class KeysUnavailable(Exception):
    """The issuer's keys could not be fetched: no token can be checked now."""


def principal_from_claims(claims: dict[str, Any], service: str | None) -> Principal:
    """Apply the audience, subject and lifetime rules to verified claims.

    `service` is the name of the service checking (None for the gateway,
    which accepts user tokens only).
    """
    subject, audience = claims.get("sub"), claims.get("aud")
    if not isinstance(subject, str) or subject in ("", RULES.service_prefix):
        raise InvalidToken("sub is not a name")
    is_service = subject.startswith(RULES.service_prefix)
    if audience == RULES.user_audience and not is_service:
        cap = RULES.max_user_seconds
    elif service and is_service and audience == RULES.service_audience(service):
        cap = RULES.max_service_seconds
    else:
        raise InvalidToken(f"audience {audience!r} with subject {subject!r} is not for us")
    lifetime = claims["exp"] - claims["iat"]
    if not isinstance(lifetime, int | float) or lifetime > cap:
        raise InvalidToken(f"lifetime {lifetime!r} s is over the cap of {cap} s")
    return Principal(subject, is_service=is_service)


def decode(token: str, key: Any, issuer: str, audiences: list[str]) -> dict[str, Any]:
    """Check signature, algorithm, issuer, audience and times (PyJWT does it)."""
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[RULES.algorithm],  # a fixed list: "none", HS256 and others are refused
            issuer=issuer,
            audience=audiences,
            options={"require": ["iss", "sub", "aud", "iat", "exp"]},
            leeway=RULES.leeway_seconds,
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(f"{type(error).__name__}: {error}") from error


class IssuerKeys:
    """The issuer's public keys, found through its metadata and cached."""

    def __init__(
        self,
        issuer: str,
        timeout: float = 2.0,
        cooldown_seconds: float = REFETCH_COOLDOWN_SECONDS,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.timeout = timeout
        self.cooldown_seconds = cooldown_seconds
        self._client: jwt.PyJWKClient | None = None
        self._keys: dict[str, Any] = {}
        self._fetched_at = -cooldown_seconds
        self._lock = threading.Lock()

    def key_for(self, token: str) -> Any:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as error:
            raise InvalidToken(f"unreadable header: {error}") from error
        if not isinstance(kid, str):
            raise InvalidToken("the token names no key id")
        with self._lock:
            if kid not in self._keys and self._may_refetch():
                fetched = self._refetch()
                if not fetched and not self._keys:
                    # Not the caller's fault: the next try may find the keys.
                    self._fetched_at = -self.cooldown_seconds
                    raise KeysUnavailable("the issuer's keys could not be fetched")
            key = self._keys.get(kid)
        if key is None:
            raise InvalidToken(f"unknown key id {kid!r}")
        return key

    def _may_refetch(self) -> bool:
        return time.monotonic() - self._fetched_at >= self.cooldown_seconds

    def _refetch(self) -> bool:
        self._fetched_at = time.monotonic()
        try:
            if self._client is None:
                self._client = jwt.PyJWKClient(
                    self._jwks_uri(), cache_jwk_set=False, timeout=int(self.timeout) or 1
                )
            keys = self._client.get_signing_keys(refresh=True)
        except (requests.RequestException, jwt.PyJWKClientError, KeyError, ValueError) as error:
            log.warning("cannot fetch the issuer's keys", extra={"error": str(error)})
            return False
        self._keys = {key.key_id: key.key for key in keys if key.key_id}
        return True

    def _jwks_uri(self) -> str:
        return metadata_url(self.issuer, "jwks_uri", self.timeout)


def metadata_url(issuer: str, field: str, timeout: float) -> str:
    """One URL of the issuer's metadata (`jwks_uri`, `token_endpoint`)."""
    with untraced():  # bookkeeping of the caller's, not a step of its request
        response = requests.get(issuer + RULES.metadata_path, timeout=timeout)
    response.raise_for_status()
    url = response.json().get(field)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"the issuer's metadata has no {field}")
    return url


class TokenVerifier:
    """Verifies bearer tokens for one service (or, with service=None, the gateway).

    A client sends the same token with every request until it expires, so
    each verdict is kept (the last VERIFIED_TOKENS_KEPT tokens, by use) until
    the token's own expiry: checking the signature again was most of the
    cost of a request's authentication. A token accepted stays accepted
    until then, even if its key leaves the issuer's set: the lifetime cap
    (contracts/auth.json) bounds that, as it bounds a stolen token."""

    def __init__(
        self,
        issuer: str,
        service: str | None,
        keys: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.service = service
        self.keys = keys or IssuerKeys(self.issuer)
        self.audiences = [RULES.user_audience]
        if service:
            self.audiences.append(RULES.service_audience(service))
        self.clock = clock
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, token: str) -> Principal:
        with self._lock:
            kept = self._verified.get(token)
            if kept is not None:
                principal, valid_until = kept
                if self.clock() < valid_until:
                    self._verified.move_to_end(token)
                    return principal
                del self._verified[token]  # expired: decode says so, and why
        claims = decode(token, self.keys.key_for(token), self.issuer, self.audiences)
        principal = principal_from_claims(claims, self.service)
        with self._lock:
            # PyJWT's rule: valid while now < exp + leeway.
            self._verified[token] = (principal, claims["exp"] + RULES.leeway_seconds)
            if len(self._verified) > VERIFIED_TOKENS_KEPT:
                self._verified.popitem(last=False)
        return principal


def register_identity(app: Any, verifier: TokenVerifier) -> None:
    app.extensions[EXTENSION] = verifier


def require_principal() -> Principal:
    """The verified caller of the current request, or a 401 problem."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("A bearer token is required.")
    try:
        return current_app.extensions[EXTENSION].verify(token.strip())
    except InvalidToken as error:
        # The reason is for whoever runs the service, not for the caller.
        log.info("bearer token refused", extra={"reason": str(error)})
        raise unauthorized("The bearer token is not valid.", invalid=True) from None
    except KeysUnavailable:
        raise Problem(
            503,
            "Service Unavailable",
            "Tokens cannot be checked right now; try again shortly.",
            headers={"Retry-After": "5"},
        ) from None


def unauthorized(detail: str, invalid: bool = False) -> Problem:
    challenge = 'Bearer realm="polyshop"' + (', error="invalid_token"' if invalid else "")
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": challenge})


class ServiceTokens:
    """Service tokens for this service's calls, by the client-credentials grant.

    One token per callee, kept until shortly before it expires; callers at
    the same moment share one request to the issuer.
    """

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        timeout: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.url: str | None = None  # the metadata's token_endpoint, found on first use
        self.auth = (client_id, client_secret)
        self.timeout = timeout
        self.clock = clock
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._session = requests.Session()
        self._session.trust_env = False

    def for_service(self, callee: str) -> str:
        with self._lock:  # one request at a time: the others then find its token
            token, renew_at = self._tokens.get(callee, ("", 0.0))
            if token and self.clock() < renew_at:
                return token
            token, lifetime = self._fetch(callee)
            # Renew with a quarter of the lifetime left, so a token never
            # expires on its way to the callee.
            self._tokens[callee] = (token, self.clock() + lifetime * 0.75)
            return token

    def _fetch(self, callee: str) -> tuple[str, float]:
        try:
            self.url = self.url or metadata_url(self.issuer, "token_endpoint", self.timeout)
        except (requests.RequestException, ValueError) as error:
            raise ServiceTokenError(f"the issuer's metadata cannot be read: {error}") from error
        # RFC 6749 2.3.1: id and secret are form-encoded before Basic.
        client_id, secret = (quote_plus(part) for part in self.auth)
        try:
            with untraced():
                response = self._session.post(
                    self.url,
                    data={"grant_type": "client_credentials", "audience": callee},
                    auth=(client_id, secret),
                    timeout=self.timeout,
                )
            if response.status_code != 200:
                status = response.status_code
                raise ServiceTokenError(f"the issuer answered {status} for {callee!r}")
            body = response.json()
            return str(body["access_token"]), float(body["expires_in"])
        except (requests.RequestException, ValueError, KeyError) as error:
            raise ServiceTokenError(f"no token for calling {callee!r}: {error}") from error

    def close(self) -> None:
        self._session.close()


class ServiceTokenError(Exception):
    """The issuer would not give a service token."""
