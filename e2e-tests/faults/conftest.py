"""Fixtures of the fault tests: one shop for the folder, broken and healed
by each test, which leaves every piece running again when it ends."""

from __future__ import annotations

import pytest

from support.faults import FaultShop, fault_shop, settle, stock


@pytest.fixture(scope="package")
def shop(tmp_path_factory) -> FaultShop:
    with fault_shop(tmp_path_factory.mktemp("faults")) as started:
        yield started


@pytest.fixture
def stock_before(shop: FaultShop) -> dict[str, dict]:
    """Stock once every earlier order has finished: the baseline of the totals."""
    settle(shop)
    return stock(shop)
