from __future__ import annotations

import pytest

from support.shop import Customer, running_shop


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    with running_shop(tmp_path_factory.mktemp("shop")) as started:
        yield started


@pytest.fixture(scope="module")
def alice(shop) -> Customer:
    return Customer(shop.gateway, "alice", "wonderland")


@pytest.fixture(scope="module")
def bob(shop) -> Customer:
    return Customer(shop.gateway, "bob", "builder")
