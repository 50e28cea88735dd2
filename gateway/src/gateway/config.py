"""The gateway's settings: read from the environment once, in one place.

Plain settings have defaults that work for `make up`; secrets have none
(docs/security.md). The signing key comes from `JWT_SIGNING_KEY_FILE`;
service clients from `AUTH_CLIENTS_FILE`; users from `GATEWAY_USERS_FILE`,
hashed. The demo users exist only in development mode (`POLYSHOP_MODE=
development`), which the gateway announces in its log. Tests build a
`Config` directly instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gateway.users import Users
from polyshop_common.settings import (
    DEVELOPMENT,
    PRODUCTION,
    ConfigError,
    EnvReader,
    log_level,
    no_spaces,
    port,
    seconds,
    urls,
)
from polyshop_common.signing import Clients, SigningKey
from polyshop_common.token_rules import RULES

DEFAULT_ROUTES_FILE = Path(__file__).with_name("routes.yaml")


@dataclass(frozen=True)
class Config:
    port: int = 8080
    host: str = "127.0.0.1"
    # GET /metrics, served on the gateway's HOST at this port, never on the
    # public one (metrics.py).
    metrics_port: int = 9464
    registry_url: str = "http://127.0.0.1:8761"
    # The tokens' `iss`: where services find this gateway's public keys.
    issuer: str = "http://127.0.0.1:8080"
    signing_key: SigningKey = field(default_factory=SigningKey.generate)
    clients: Clients = field(default_factory=lambda: Clients({}))
    users: Users = field(default_factory=Users)
    mode: str = PRODUCTION
    jwt_ttl_seconds: int = 3600
    routes_file: Path = DEFAULT_ROUTES_FILE
    log_level: str = "INFO"
    # Largest request body the gateway accepts and forwards (413 above it).
    max_body_bytes: int = 1024 * 1024
    # Load-balancing strategy: "round_robin" or "least_outstanding".
    balancer: str = "round_robin"
    # Circuit breaker per instance: failures in a row, then a cool-down.
    breaker_failures: int = 3
    breaker_cooldown_seconds: float = 10.0
    # Seconds discovery may take for its first answer before /readyz says no.
    discovery_wait_seconds: float = 30.0
    # Failed log-ins allowed per user name, and per client address, in a window.
    login_failures_per_user: int = 5
    login_failures_per_address: int = 30
    login_window_seconds: float = 300.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Config:
        env = EnvReader(environ)
        mode = env.mode()
        return cls(
            port=env.read("PORT", port, 8080),
            host=env.read("HOST", no_spaces, "127.0.0.1"),
            metrics_port=env.read("METRICS_PORT", port, 9464),
            registry_url=env.read("REGISTRY_URL", urls, "http://127.0.0.1:8761"),
            issuer=env.issuer(),
            signing_key=_signing_key(env),
            clients=Clients.from_json(_file(env, "AUTH_CLIENTS_FILE", '{"clients": []}')),
            users=_users(env, mode),
            mode=mode,
            jwt_ttl_seconds=env.read("JWT_TTL_SECONDS", _token_lifetime, 3600),
            routes_file=env.read("GATEWAY_ROUTES_FILE", Path, DEFAULT_ROUTES_FILE),
            log_level=env.read("LOG_LEVEL", log_level, "INFO"),
            balancer=env.read("GATEWAY_BALANCER", str, "round_robin"),
            login_failures_per_user=env.read("GATEWAY_LOGIN_FAILURES_PER_USER", positive, 5),
            login_failures_per_address=env.read("GATEWAY_LOGIN_FAILURES_PER_ADDRESS", positive, 30),
            login_window_seconds=env.read("GATEWAY_LOGIN_WINDOW_SECONDS", seconds, 300.0),
        )


def _signing_key(env: EnvReader) -> SigningKey:
    path = env.read("JWT_SIGNING_KEY_FILE", Path, None)
    if path is None:
        raise ConfigError(
            "JWT_SIGNING_KEY_FILE must name the gateway's Ed25519 private key (PEM); "
            "`python -m polyshop_dev.secrets DIR` writes one"
        )
    try:
        return SigningKey.from_pem_file(path)
    except (OSError, ValueError) as error:
        raise ConfigError(f"JWT_SIGNING_KEY_FILE={str(path)!r}: {error}") from None


def _users(env: EnvReader, mode: str) -> Users:
    text = _file(env, "GATEWAY_USERS_FILE", None)
    if text is not None:
        return Users.from_json(text)
    return Users.demo() if mode == DEVELOPMENT else Users()


def _file(env: EnvReader, name: str, default: str | None) -> str | None:
    path = env.read(name, Path, None)
    if path is None:
        return default
    try:
        text = path.read_text(encoding="utf-8")
        json.loads(text)
    except (OSError, ValueError) as error:
        raise ConfigError(f"{name}={str(path)!r} is not a readable JSON file: {error}") from None
    return text


def _token_lifetime(raw: str) -> int:
    if not raw.isdigit() or not 60 <= int(raw) <= RULES.max_user_seconds:
        raise ValueError(f"expected seconds from 60 to {RULES.max_user_seconds}")
    return int(raw)


def positive(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError("expected a whole number, 1 or more")
    return int(raw)
