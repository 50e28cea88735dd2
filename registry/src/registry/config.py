"""The registry's settings: the one place that reads the environment.

Every value but one has a working default for a workshop laptop; a value set
in the environment wins. The exception is REGISTRY_CREDENTIALS_FILE: who may
write has no safe default. A bad or missing value stops start-up with a
message naming the variable, instead of surfacing later as a confusing
failure. Reading and checking the values is polyshop_common.settings', as for
every other piece.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from polyshop_common.settings import (
    PRODUCTION,
    ConfigError,
    EnvReader,
    log_level,
    no_spaces,
    port,
    seconds,
    urls,
)
from registry import credentials
from registry.credentials import Credentials
from registry.hosts import Network, parse_networks
from registry.models import Limits

__all__ = ["ConfigError", "Settings"]

CREDENTIALS_FILE = "REGISTRY_CREDENTIALS_FILE"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8761
    credentials: Credentials = field(default_factory=Credentials)
    allowed_networks: tuple[Network, ...] = ()  # none: any address but the refused ones
    lease_ttl_seconds: float = 15.0
    eviction_interval_seconds: float = 0.2
    max_wait_seconds: float = 60.0
    max_instances: int = Limits.instances
    max_instances_per_service: int = Limits.instances_per_service
    max_metadata_bytes: int = 4096
    max_watches: int = Limits.watchers
    max_connections: int = 3000
    idle_timeout_seconds: int = 15  # whole seconds: gunicorn's `keepalive` takes no fractions
    log_level: str = "INFO"
    mode: str = PRODUCTION
    start_reaper: bool = True
    testing: bool = False
    # The registries side by side with this one (peers.py); it may be among them.
    peers: tuple[str, ...] = ()
    peer_token: str | None = None  # the token the peers share

    @property
    def limits(self) -> Limits:
        return Limits(
            instances=self.max_instances,
            instances_per_service=self.max_instances_per_service,
            watchers=self.max_watches,
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read the settings; an unset or empty variable keeps its default."""
        env = EnvReader(environ)
        if not environ.get(CREDENTIALS_FILE, "").strip():
            raise ConfigError(
                f"{CREDENTIALS_FILE} must name the JSON file of the registry's write "
                "credentials (registry/README.md): there is no default"
            )
        settings = cls(
            host=env.read("HOST", no_spaces, cls.host),
            port=env.read("PORT", port, cls.port),
            credentials=env.read(CREDENTIALS_FILE, credentials.load, Credentials()),
            allowed_networks=env.read("REGISTRY_ALLOWED_NETWORKS", parse_networks, ()),
            lease_ttl_seconds=env.read(
                "REGISTRY_LEASE_TTL_SECONDS", seconds, cls.lease_ttl_seconds
            ),
            eviction_interval_seconds=env.read(
                "REGISTRY_EVICTION_INTERVAL_SECONDS", seconds, cls.eviction_interval_seconds
            ),
            max_wait_seconds=env.read("REGISTRY_MAX_WAIT_SECONDS", seconds, cls.max_wait_seconds),
            max_instances=env.read("REGISTRY_MAX_INSTANCES", count, cls.max_instances),
            max_instances_per_service=env.read(
                "REGISTRY_MAX_INSTANCES_PER_SERVICE", count, cls.max_instances_per_service
            ),
            max_metadata_bytes=env.read(
                "REGISTRY_MAX_METADATA_BYTES", count, cls.max_metadata_bytes
            ),
            max_watches=env.read("REGISTRY_MAX_WATCHES", count, cls.max_watches),
            max_connections=env.read("REGISTRY_MAX_CONNECTIONS", count, cls.max_connections),
            idle_timeout_seconds=env.read(
                "REGISTRY_IDLE_TIMEOUT_SECONDS", count, cls.idle_timeout_seconds
            ),
            log_level=env.read("LOG_LEVEL", log_level, cls.log_level),
            mode=env.mode(),
            peers=env.read("REGISTRY_PEERS", url_list, ()),
            peer_token=env.secret("REGISTRY_PEER_TOKEN", required=False),
        )
        if settings.peers and not settings.peer_token:
            raise ConfigError(
                "REGISTRY_PEERS names peers, so REGISTRY_PEER_TOKEN (or "
                "REGISTRY_PEER_TOKEN_FILE) must be set: the token they share"
            )
        if settings.max_watches >= settings.max_connections:
            # Watchers must never hold every connection: heartbeats need some.
            raise ConfigError(
                f"REGISTRY_MAX_WATCHES ({settings.max_watches}) must be less than "
                f"REGISTRY_MAX_CONNECTIONS ({settings.max_connections})"
            )
        return settings


def url_list(raw: str) -> tuple[str, ...]:
    return tuple(urls(raw).split(","))


def count(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError("expected a whole number, 1 or more")
    return int(raw)
