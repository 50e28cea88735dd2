from __future__ import annotations

import pytest

from support.compose import stand_up
from support.shop import Customer


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """The shop on the stack E2E_STACK names: local processes by default,
    or docker compose."""
    with stand_up(tmp_path_factory.mktemp("shop")) as started:
        yield started


@pytest.fixture(scope="module")
def alice(shop) -> Customer:
    return Customer(shop.gateway, "alice", "wonderland")


@pytest.fixture(scope="module")
def bob(shop) -> Customer:
    return Customer(shop.gateway, "bob", "builder")
