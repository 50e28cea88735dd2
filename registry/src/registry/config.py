"""The registry's settings: the one place that reads the environment.

Every value has a working default for a workshop laptop; a value set in the
environment wins. A bad value stops start-up with a message naming the
variable, instead of surfacing later as a confusing failure.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

DEFAULT_TOKEN = "polyshop-dev-token"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

T = TypeVar("T")


class ConfigError(ValueError):
    """An environment variable holds a value the registry cannot use."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8761
    token: str = DEFAULT_TOKEN
    lease_ttl_seconds: float = 15.0
    eviction_interval_seconds: float = 0.2
    max_wait_seconds: float = 60.0
    log_level: str = "INFO"
    start_reaper: bool = True
    testing: bool = False

    @property
    def uses_default_token(self) -> bool:
        return self.token == DEFAULT_TOKEN

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read the settings; an unset or empty variable keeps its default."""

        def read(name: str, parse: Callable[[str], T], default: T) -> T:
            raw = environ.get(name, "").strip()
            if not raw:
                return default
            try:
                return parse(raw)
            except ValueError as error:
                raise ConfigError(f"{name}={raw!r} is invalid: {error}") from None

        return cls(
            host=read("HOST", _bind_address, cls.host),
            port=read("PORT", _port, cls.port),
            token=read("REGISTRY_TOKEN", str, cls.token),
            lease_ttl_seconds=read("REGISTRY_LEASE_TTL_SECONDS", _seconds, cls.lease_ttl_seconds),
            eviction_interval_seconds=read(
                "REGISTRY_EVICTION_INTERVAL_SECONDS", _seconds, cls.eviction_interval_seconds
            ),
            max_wait_seconds=read("REGISTRY_MAX_WAIT_SECONDS", _seconds, cls.max_wait_seconds),
            log_level=read("LOG_LEVEL", _log_level, cls.log_level),
        )


def _bind_address(raw: str) -> str:
    if any(character.isspace() for character in raw):
        raise ValueError("expected a host name or IP address without spaces")
    return raw


def _port(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ValueError("expected a TCP port from 1 to 65535")
    return int(raw)


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ValueError("expected a positive number of seconds, such as 15 or 0.5")
    return value


def _log_level(raw: str) -> str:
    if raw.upper() not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
    return raw.upper()
