"""Fixtures that build on each other: settings → prices → app → client, conn, auth.

`contracts`, `contracts_dir`, `client`, `conn` and `auth` come from
polyshop_common.testing (see the repository's conftest.py); what is the
orders service's own is here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orders.app import create_app
from orders.config import Settings
from orders.pricing import pick
from polyshop_common.http_client import ServiceUnavailable


class FakePrices:
    """The catalog's answer, from the seed file; `down = True` makes it unreachable."""

    def __init__(self, contracts_dir: Path) -> None:
        seed = json.loads((contracts_dir / "seed" / "products.json").read_text())
        self.products = [p | {"currency": seed["currency"]} for p in seed["products"]]
        self.down = False
        self.calls = 0

    def lookup(self, skus):
        self.calls += 1
        if self.down:
            raise ServiceUnavailable("no live instance of catalog")
        return pick(self.products, skus)


@pytest.fixture
def settings(service_settings: dict[str, Any]) -> Settings:
    return Settings(**service_settings)


@pytest.fixture
def prices(contracts_dir: Path) -> FakePrices:
    return FakePrices(contracts_dir)


@pytest.fixture
def app(settings: Settings, prices: FakePrices):
    return create_app(settings, prices=prices)
