"""A consumer killed in the middle of sagas and started again resumes from
its committed offsets: nothing is lost, nothing is handled twice."""

from __future__ import annotations

import signal

import pytest

from support import poll
from support.faults import assert_totals_add_up
from support.kafka_probe import committed, end_offsets
from support.load import Load, Mix

# The consumer killed, every instance of it, and the topic it reads that
# the saga feeds it through.
CONSUMERS = {
    "payments": (("payments",), "inventory"),
    "inventory": (("inventory", "inventory-2"), "orders"),
}


@pytest.mark.slow
@pytest.mark.parametrize("service", CONSUMERS)
def test_a_consumer_killed_mid_saga_resumes_from_its_committed_offsets(shop, stock_before, service):
    instances, topic = CONSUMERS[service]
    mix = Mix(reads=("/api/products", "/api/orders/{order}"), order_every=2, pace=0.1)
    with Load(shop.gateway, mix, threads=3, max_seconds=60) as load:
        load.wait_for(30, timeout=20)  # sagas in flight
        for name in instances:
            shop.stop(name, sig=signal.SIGKILL)
        load.wait_for(30, timeout=20)  # more orders for the dead consumer
        for name in instances:
            shop.start(name)
        load.wait_for(20, timeout=20)
    placed = shop.remember(load)

    assert load.failures() == []
    assert_totals_add_up(shop, placed, stock_before)
    ends = end_offsets(shop.bootstrap, topic)
    poll(
        lambda: all(committed(shop.bootstrap, service, topic, p) == end for p, end in ends.items()),
        15,
        what=f"{service} committed every record of {topic}",
    )
