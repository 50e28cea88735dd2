"""Settings every Python service shares, read from the environment once.

Each service's `config.py` builds its own frozen `Settings` on top of
`ServiceSettings`, passing `os.environ` in: no other module reads the
environment. An unset or empty variable keeps its default; a bad value stops
start-up with a message naming the variable, rather than the first time it
is used (a retry delay with no retry topic to carry it, say).
"""

from __future__ import annotations

import math
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from polyshop_common.events import find_contracts_dir, read_topics

T = TypeVar("T")
WILDCARD_HOSTS = ("0.0.0.0", "::")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_JWT_SECRET = "polyshop-dev-secret-not-for-production"
DEFAULT_REGISTRY_TOKEN = "polyshop-dev-token"
DEFAULT_RETRY_DELAYS = (1.0, 10.0, 60.0)
NO_RETRIES = "none"


class ConfigError(ValueError):
    """An environment variable holds a value the service cannot use."""


class EnvReader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def read(self, name: str, parse: Callable[[str], T], default: T) -> T:
        raw = self.environ.get(name, "").strip()
        if not raw:
            return default
        try:
            return parse(raw)
        except ValueError as error:
            raise ConfigError(f"{name}={raw!r} is invalid: {error}") from None


@dataclass(frozen=True)
class ServiceSettings:
    port: int
    host: str = "127.0.0.1"
    advertised_host: str = "127.0.0.1"
    registry_url: str = "http://127.0.0.1:8761"
    registry_token: str = DEFAULT_REGISTRY_TOKEN
    kafka_bootstrap: str = "127.0.0.1:9092"
    data_dir: Path = Path(".run/data")
    jwt_secret: str = DEFAULT_JWT_SECRET
    contracts_dir: Path | None = None
    log_level: str = "INFO"
    # Seconds before the attempts 2, 3, ... of a failed event (docs/saga.md, "Retries").
    consumer_retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    testing: bool = False
    # False in tests: no registration, consumer or relay threads are started.
    start_background: bool = True

    def insecure_defaults(self) -> list[str]:
        """What start-up should warn about: public development secrets in use."""
        warnings = []
        if self.jwt_secret == DEFAULT_JWT_SECRET:
            warnings.append("JWT_SECRET is the public development default: set your own")
        if self.registry_token == DEFAULT_REGISTRY_TOKEN:
            warnings.append("REGISTRY_TOKEN is the public development default: set your own")
        return warnings

    def database(self, service: str) -> Path:
        return self.data_dir / f"{service}.db"

    @staticmethod
    def common_from_env(env: EnvReader, default_port: int) -> dict[str, Any]:
        """The shared fields, for a service's own `from_env` to pass on."""
        contracts_dir = env.read("CONTRACTS_DIR", existing_dir, find_contracts_dir())
        return {
            "port": env.read("PORT", port, default_port),
            "host": (host := env.read("HOST", no_spaces, "127.0.0.1")),
            "advertised_host": env.read("ADVERTISED_HOST", no_spaces, default_advertised(host)),
            "registry_url": env.read("REGISTRY_URL", url, "http://127.0.0.1:8761"),
            "registry_token": env.read("REGISTRY_TOKEN", str, DEFAULT_REGISTRY_TOKEN),
            "kafka_bootstrap": env.read("KAFKA_BOOTSTRAP_SERVERS", no_spaces, "127.0.0.1:9092"),
            "data_dir": env.read("DATA_DIR", Path, Path(".run/data")),
            "jwt_secret": env.read("JWT_SECRET", str, DEFAULT_JWT_SECRET),
            "contracts_dir": contracts_dir,
            "log_level": env.read("LOG_LEVEL", log_level, "INFO"),
            "consumer_retry_delays": consumer_retry_delays(env, contracts_dir),
        }


def consumer_retry_delays(env: EnvReader, contracts_dir: Path | None) -> tuple[float, ...]:
    """CONSUMER_RETRY_DELAYS, at most one delay per retry topic of the contract."""
    delays = env.read("CONSUMER_RETRY_DELAYS", retry_delays, DEFAULT_RETRY_DELAYS)
    if contracts_dir is not None:  # without contracts the service stops at loading them
        levels = read_topics(contracts_dir)["retry_levels"]
        if len(delays) > levels:
            raise ConfigError(
                f"CONSUMER_RETRY_DELAYS has {len(delays)} delays, but there are only "
                f"{levels} retry topics per topic (contracts/topics.json)"
            )
    return delays


def default_advertised(host: str) -> str:
    """The address others reach this instance at, when ADVERTISED_HOST is unset.

    Listening on every interface (in a container) means the loopback address
    would be useless to others; the host name is what a container network
    resolves, and it differs between replicas of one service.
    """
    return socket.gethostname() if host in WILDCARD_HOSTS else host


def port(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ValueError("expected a TCP port from 1 to 65535")
    return int(raw)


def no_spaces(raw: str) -> str:
    if any(character.isspace() for character in raw):
        raise ValueError("expected a value without spaces")
    return raw


def url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")
    return raw.rstrip("/")


def existing_dir(raw: str) -> Path:
    if not Path(raw).is_dir():
        raise ValueError("no such folder")
    return Path(raw)


def log_level(raw: str) -> str:
    if raw.upper() not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
    return raw.upper()


def non_negative_int(raw: str) -> int:
    if not raw.isdigit():
        raise ValueError("expected a whole number, 0 or more")
    return int(raw)


def retry_delays(raw: str) -> tuple[float, ...]:
    """Seconds separated by commas ("1,10,60"), or "none" for no retries."""
    if raw.lower() == NO_RETRIES:
        return ()
    try:
        return tuple(seconds(part.strip()) for part in raw.split(","))
    except ValueError:
        raise ValueError(
            f'expected seconds separated by commas, such as 1,10,60, or "{NO_RETRIES}"'
        ) from None


def seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ValueError("expected a positive number of seconds, such as 2 or 0.5")
    return value
