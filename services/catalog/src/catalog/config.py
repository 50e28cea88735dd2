"""The catalog's settings: the one place that reads the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from polyshop_common.settings import ConfigError, EnvReader, ServiceSettings

SERVICE = "catalog"
DEFAULT_PORT = 5001


@dataclass(frozen=True)
class Settings(ServiceSettings):
    port: int = DEFAULT_PORT

    @property
    def seed_file(self) -> Path:
        if self.contracts_dir is None:
            raise ConfigError("no contracts/ folder found: set CONTRACTS_DIR")
        return self.contracts_dir / "seed" / "products.json"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        settings = cls(**ServiceSettings.common_from_env(EnvReader(environ), DEFAULT_PORT))
        settings.seed_file  # noqa: B018  (fail fast: no contracts, no seed)
        return settings
