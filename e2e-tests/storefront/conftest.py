"""The storefront's browser tests: one shop for the folder, on spare ports,
with a short registry lease so an instance that dies leaves the system view
within seconds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.shop import Customer, Shop, running_shop

LEASE_TTL_SECONDS = 3
SYSTEM_VIEW_AGENT = "workshop-demo"


@pytest.fixture(scope="package")
def shop(tmp_path_factory) -> Iterator[Shop]:
    env = {"REGISTRY_LEASE_TTL_SECONDS": str(LEASE_TTL_SECONDS)}
    # A credential for the system view's test agent, a process of the tests' own.
    agents = {SYSTEM_VIEW_AGENT: [SYSTEM_VIEW_AGENT]}
    # With a trace backend: the order pages link to it, and test_traces reads it.
    with running_shop(tmp_path_factory.mktemp("storefront"), env, agents, traces=True) as started:
        yield started


@pytest.fixture(scope="package")
def alice(shop: Shop) -> Iterator[Customer]:
    with Customer(shop.gateway, "alice", "wonderland") as customer:
        yield customer
