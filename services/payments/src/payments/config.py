"""The payments service's settings: the one place that reads the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from polyshop_common.settings import EnvReader, ServiceSettings, non_negative_int

SERVICE = "payments"
DEFAULT_PORT = 5003
DEFAULT_DECLINE_OVER_CENTS = 50000


@dataclass(frozen=True)
class Settings(ServiceSettings):
    port: int = DEFAULT_PORT
    # The demo rule: totals above this are declined, so both saga endings show.
    decline_over_cents: int = DEFAULT_DECLINE_OVER_CENTS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        env = EnvReader(environ)
        return cls(
            **ServiceSettings.common_from_env(env, DEFAULT_PORT),
            decline_over_cents=env.read(
                "PAYMENTS_DECLINE_OVER_CENTS", non_negative_int, DEFAULT_DECLINE_OVER_CENTS
            ),
        )
