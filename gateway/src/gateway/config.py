"""The gateway's settings: read from the environment once, in one place.

Every value has a default that works for `make up`; a value set in the
environment wins. Tests build a `Config` directly instead.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_JWT_SECRET = "polyshop-dev-secret-not-for-production"
DEFAULT_ROUTES_FILE = Path(__file__).with_name("routes.yaml")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Config:
    port: int = 8080
    host: str = "127.0.0.1"
    registry_url: str = "http://127.0.0.1:8761"
    registry_token: str = "polyshop-dev-token"
    jwt_secret: str = DEFAULT_JWT_SECRET
    jwt_ttl_seconds: int = 3600
    routes_file: Path = DEFAULT_ROUTES_FILE
    users: dict[str, str] = field(default_factory=lambda: {"alice": "wonderland", "bob": "builder"})
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

    @classmethod
    def from_env(cls) -> Config:
        env = os.environ
        config = cls(
            port=int(env.get("PORT", "8080")),
            host=env.get("HOST", "127.0.0.1"),
            registry_url=env.get("REGISTRY_URL", "http://127.0.0.1:8761"),
            registry_token=env.get("REGISTRY_TOKEN", "polyshop-dev-token"),
            jwt_secret=env.get("JWT_SECRET", DEFAULT_JWT_SECRET),
            jwt_ttl_seconds=int(env.get("JWT_TTL_SECONDS", "3600")),
            routes_file=Path(env.get("GATEWAY_ROUTES_FILE", str(DEFAULT_ROUTES_FILE))),
            users=parse_users(env.get("GATEWAY_USERS", "alice:wonderland,bob:builder")),
            log_level=env.get("LOG_LEVEL", "INFO"),
            balancer=env.get("GATEWAY_BALANCER", "round_robin"),
        )
        if config.jwt_secret == DEFAULT_JWT_SECRET:
            log.warning("JWT_SECRET is the development default; set it outside a workshop")
        return config


def parse_users(text: str) -> dict[str, str]:
    """`"alice:wonderland,bob:builder"` -> `{"alice": "wonderland", "bob": "builder"}`."""
    users = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        name, sep, password = pair.partition(":")
        if not sep or not name or not password:
            raise ValueError(f"GATEWAY_USERS entry {pair!r} is not name:password")
        users[name] = password
    return users
