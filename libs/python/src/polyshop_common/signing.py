"""The issuer's side of tokens: an Ed25519 key, its public JWK, and signing.

Only the gateway holds a private key; this module is shared so the test
issuer signs exactly as the gateway does. PyJWT and `cryptography` do the
cryptography; the key id is the key's RFC 7638 thumbprint, so it names the
key itself and changes when the key does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from polyshop_common.token_rules import RULES


class SigningKey:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self.private_key = private_key
        public = OKPAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
        self.kid = thumbprint(public)
        self.public_jwk = {**public, "kid": self.kid, "alg": RULES.algorithm, "use": "sig"}

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem_file(cls, path: Path) -> SigningKey:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return cls(key)

    def pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims,
            self.private_key,
            algorithm=RULES.algorithm,
            headers={"kid": self.kid, "typ": "JWT"},
        )


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 of the required members, sorted, without spaces."""
    required = {name: jwk[name] for name in ("crv", "kty", "x")}
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(canonical).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [key.public_jwk for key in keys]}


def issuer_metadata(issuer: str) -> dict[str, Any]:
    """The part of an OpenID provider's metadata a service needs."""
    return {
        "issuer": issuer,
        "jwks_uri": issuer + RULES.jwks_path,
        "token_endpoint": issuer + RULES.service_token_path,
        "grant_types_supported": ["password", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "id_token_signing_alg_values_supported": [RULES.algorithm],
    }


def user_claims(issuer: str, user: str, ttl: int, now: int) -> dict[str, Any]:
    return {"iss": issuer, "sub": user, "aud": RULES.user_audience, "iat": now, "exp": now + ttl}


def service_claims(issuer: str, caller: str, callee: str, now: int) -> dict[str, Any]:
    return {
        "iss": issuer,
        "sub": RULES.service_audience(caller),  # "service:<caller>"
        "aud": RULES.service_audience(callee),
        "iat": now,
        "exp": now + RULES.service_token_seconds,
    }


class ClientRefused(Exception):
    """A client-credentials request the issuer turns down; `status` says how."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class Clients:
    """Which service may obtain tokens for which callees (AUTH_CLIENTS_FILE).

    Only SHA-256 digests of the secrets are kept: the secrets are long and
    random, so a digest is as good as a slow hash and costs nothing per call.
    """

    def __init__(self, clients: dict[str, tuple[str, frozenset[str]]]) -> None:
        self._clients = clients

    @classmethod
    def from_json(cls, text: str) -> Clients:
        entries = json.loads(text)["clients"]
        return cls(
            {
                entry["client_id"]: (entry["secret_sha256"], frozenset(entry["audiences"]))
                for entry in entries
            }
        )

    def check(self, client_id: str, secret: str, audience: str) -> None:
        digest, audiences = self._clients.get(client_id, ("", frozenset()))
        offered = secret_digest(secret)
        if not digest or not hmac.compare_digest(offered, digest):
            raise ClientRefused(401, "Unknown client or wrong secret.")
        if audience not in audiences:
            raise ClientRefused(403, f"Client {client_id!r} may not call {audience!r}.")


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
