"""The registry's settings: the one place that reads the environment.

Every value has a working default for a workshop laptop; a value set in the
environment wins. A bad value stops start-up with a message naming the
variable, instead of surfacing later as a confusing failure. Reading and
checking the values is polyshop_common.settings', as for every other piece.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from polyshop_common.settings import (
    DEFAULT_REGISTRY_TOKEN,
    ConfigError,
    EnvReader,
    log_level,
    no_spaces,
    port,
    seconds,
)

__all__ = ["ConfigError", "Settings"]


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8761
    token: str = DEFAULT_REGISTRY_TOKEN
    lease_ttl_seconds: float = 15.0
    eviction_interval_seconds: float = 0.2
    max_wait_seconds: float = 60.0
    log_level: str = "INFO"
    start_reaper: bool = True
    testing: bool = False

    @property
    def uses_default_token(self) -> bool:
        return self.token == DEFAULT_REGISTRY_TOKEN

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read the settings; an unset or empty variable keeps its default."""
        env = EnvReader(environ)
        return cls(
            host=env.read("HOST", no_spaces, cls.host),
            port=env.read("PORT", port, cls.port),
            token=env.read("REGISTRY_TOKEN", str, cls.token),
            lease_ttl_seconds=env.read(
                "REGISTRY_LEASE_TTL_SECONDS", seconds, cls.lease_ttl_seconds
            ),
            eviction_interval_seconds=env.read(
                "REGISTRY_EVICTION_INTERVAL_SECONDS", seconds, cls.eviction_interval_seconds
            ),
            max_wait_seconds=env.read("REGISTRY_MAX_WAIT_SECONDS", seconds, cls.max_wait_seconds),
            log_level=env.read("LOG_LEVEL", log_level, cls.log_level),
        )
