"""Fixtures of the compose-backed end-to-end tests: the whole shop in
containers, built from this working tree and started once for the folder,
with inventory scaled to three instances.

They run when E2E_STACK=compose (`make test-containers` sets it, after
starting a Docker engine); otherwise they are skipped, saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from support.compose import ComposeShop, chosen_stack, compose_shop
from support.shop import Customer

SCALED = Path(__file__).with_name("scaled.compose.yml")


@pytest.fixture(scope="package")
def shop() -> Iterator[ComposeShop]:
    if chosen_stack() != "compose":
        pytest.skip("the shop in containers runs with E2E_STACK=compose (make test-containers)")
    with compose_shop(SCALED) as started:
        yield started


@pytest.fixture(scope="package")
def alice(shop: ComposeShop) -> Iterator[Customer]:
    with Customer(shop.gateway, "alice", "wonderland") as customer:
        yield customer


@pytest.fixture(scope="package")
def bob(shop: ComposeShop) -> Iterator[Customer]:
    with Customer(shop.gateway, "bob", "builder") as customer:
        yield customer


@pytest.fixture(scope="package")
def inventory_replicas() -> int:
    return yaml.safe_load(SCALED.read_text())["services"]["inventory"]["deploy"]["replicas"]
