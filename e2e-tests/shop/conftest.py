from __future__ import annotations

from collections.abc import Iterator

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
def alice(shop) -> Iterator[Customer]:
    with Customer(shop.gateway, "alice", "wonderland") as customer:
        yield customer


@pytest.fixture(scope="module")
def bob(shop) -> Iterator[Customer]:
    with Customer(shop.gateway, "bob", "builder") as customer:
        yield customer
