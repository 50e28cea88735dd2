"""Settings every Python service shares, read from the environment once.

Each service's `config.py` builds its own frozen `Settings` on top of
`ServiceSettings`, passing `os.environ` in: no other module reads the
environment. An unset or empty variable keeps its default; a bad value stops
start-up with a message naming the variable, rather than the first time it
is used (a retry delay with no retry topic to carry it, say).

Secrets have no defaults (docs/security.md): each is read from `NAME` or
from the file `NAME_FILE` names, as container images do, and a missing or
short one stops start-up. `POLYSHOP_MODE=development` is the one relaxation:
it is announced in the log, and it lets a workshop laptop use a short
secret and the demo users.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
WILDCARD_HOSTS = ("0.0.0.0", "::")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PRODUCTION = "production"
DEVELOPMENT = "development"
MODES = (PRODUCTION, DEVELOPMENT)
# Where the gateway answers on a workshop laptop; outside development mode
# AUTH_ISSUER must be set.
DEVELOPMENT_ISSUER = "http://127.0.0.1:8080"
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

    def mode(self) -> str:
        return self.read("POLYSHOP_MODE", mode, PRODUCTION)

    def secret(self, name: str, *, required: bool = True) -> str | None:
        """`NAME`, or the content of the file `NAME_FILE` names; never echoed.

        Outside development mode a secret shorter than the contract's
        minimum is refused: a short secret is a guessable one.
        """
        inline = self.environ.get(name, "").strip()
        path = self.environ.get(f"{name}_FILE", "").strip()
        if inline and path:
            raise ConfigError(f"set {name} or {name}_FILE, not both")
        value = inline
        if path:
            try:
                value = Path(path).read_text(encoding="utf-8").strip()
            except OSError as error:
                raise ConfigError(f"{name}_FILE={path!r}: {error.strerror}") from None
        if not value:
            if required:
                raise ConfigError(f"{name} (or {name}_FILE) must be set: there is no default")
            return None
        if self.mode() != DEVELOPMENT and len(value.encode()) < min_secret_bytes():
            raise ConfigError(
                f"{name} is shorter than {min_secret_bytes()} bytes; "
                "generate one, for example with `python -m polyshop_dev.secrets DIR`"
            )
        return value

    def issuer(self) -> str:
        """AUTH_ISSUER: the token issuer's URL, a default only in development mode."""
        default = DEVELOPMENT_ISSUER if self.mode() == DEVELOPMENT else ""
        issuer = self.read("AUTH_ISSUER", url, default)
        if not issuer:
            raise ConfigError("AUTH_ISSUER must be set to the token issuer's URL (the gateway)")
        return issuer


def announce_mode(mode_name: str, piece: str) -> None:
    """Say loudly that development mode is on: nobody should miss it in a log."""
    if mode_name == DEVELOPMENT:
        logging.getLogger(piece).warning(
            "DEVELOPMENT MODE: demo users and short secrets are allowed; "
            "never run this outside a workshop laptop"
        )


def read_auth_contract(contracts_dir: Path | None = None) -> dict[str, Any]:
    """contracts/auth.json: the token rules both languages share.

    Read when the library is imported, before any settings: in an image,
    where the library is installed away from contracts/, the image's
    CONTRACTS_DIR says where they are.
    """
    folder = contracts_dir or find_contracts_dir() or Path(os.environ.get("CONTRACTS_DIR", "."))
    return json.loads((folder / "auth.json").read_text(encoding="utf-8"))


def min_secret_bytes() -> int:
    return int(read_auth_contract()["min_secret_bytes"])


@dataclass(frozen=True)
class ServiceSettings:
    port: int
    host: str = "127.0.0.1"
    advertised_host: str = "127.0.0.1"
    registry_url: str = "http://127.0.0.1:8761"
    # This instance's own registry credential (unused in tests: no registration).
    registry_token: str = ""
    kafka_bootstrap: str = "127.0.0.1:9092"
    data_dir: Path = Path(".run/data")
    # Whose tokens to trust (`iss`), and where its public keys are found.
    auth_issuer: str = DEVELOPMENT_ISSUER
    # This service's client secret, to obtain service tokens for its calls.
    client_secret: str | None = None
    mode: str = PRODUCTION
    contracts_dir: Path | None = None
    log_level: str = "INFO"
    # Seconds before the attempts 2, 3, ... of a failed event (docs/saga.md, "Retries").
    consumer_retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    testing: bool = False
    # False in tests: no registration, consumer or relay threads are started.
    start_background: bool = True

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
            "registry_url": env.read("REGISTRY_URL", urls, "http://127.0.0.1:8761"),
            "registry_token": env.secret("REGISTRY_TOKEN"),
            "kafka_bootstrap": env.read("KAFKA_BOOTSTRAP_SERVERS", no_spaces, "127.0.0.1:9092"),
            "data_dir": env.read("DATA_DIR", Path, Path(".run/data")),
            "auth_issuer": env.issuer(),
            "client_secret": env.secret("AUTH_CLIENT_SECRET", required=False),
            "mode": env.mode(),
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


def urls(raw: str) -> str:
    """One URL, or several separated by commas (registries side by side):
    each checked as `url`, given back joined by commas."""
    return ",".join(url(part.strip()) for part in raw.split(","))


def existing_dir(raw: str) -> Path:
    if not Path(raw).is_dir():
        raise ValueError("no such folder")
    return Path(raw)


def mode(raw: str) -> str:
    if raw.lower() not in MODES:
        raise ValueError(f"expected one of {', '.join(MODES)}")
    return raw.lower()


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


def find_contracts_dir(start: Path | None = None) -> Path | None:
    """The `contracts/` folder of the repository this code runs from, if any.

    Inside a container the library is installed elsewhere: there the
    service's settings pass CONTRACTS_DIR instead.
    """
    here = (start or Path(__file__)).resolve()
    for folder in here.parents:
        if (folder / "contracts" / "topics.json").is_file():
            return folder / "contracts"
    return None


def read_topics(directory: Path) -> dict[str, Any]:
    """contracts/topics.json: the topics, their types, and the retry and dead-letter names."""
    return json.loads((directory / "topics.json").read_text())


def bind_address(host: str, port: int) -> str:
    """gunicorn's `bind` for a host and port: IPv6 addresses in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
