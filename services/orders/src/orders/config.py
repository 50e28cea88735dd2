"""The orders service's settings: the one place that reads the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from polyshop_common.settings import EnvReader, ServiceSettings, seconds

SERVICE = "orders"
DEFAULT_PORT = 5002
DEFAULT_SAGA_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Settings(ServiceSettings):
    port: int = DEFAULT_PORT
    catalog_timeout_seconds: float = 2.0
    # A PENDING order older than this is cancelled "timed out" (docs/saga.md, "Timeouts").
    saga_timeout_seconds: float = DEFAULT_SAGA_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        env = EnvReader(environ)
        return cls(
            **ServiceSettings.common_from_env(env, DEFAULT_PORT),
            catalog_timeout_seconds=env.read("ORDERS_CATALOG_TIMEOUT_SECONDS", seconds, 2.0),
            saga_timeout_seconds=env.read(
                "ORDERS_SAGA_TIMEOUT_SECONDS", seconds, DEFAULT_SAGA_TIMEOUT_SECONDS
            ),
        )
