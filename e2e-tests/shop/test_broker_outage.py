"""Orders are accepted while the broker is down (the outbox holds their
events) and all of them complete once it is back."""

from __future__ import annotations

import pytest

from support.faults import LONG_SAGA_TIMEOUTS
from support.shop import running_shop


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    # A stack of its own: this test stops the broker, and its orders wait
    # for it instead of timing out.
    with running_shop(tmp_path_factory.mktemp("outage"), LONG_SAGA_TIMEOUTS) as started:
        yield started


def test_orders_placed_while_the_broker_is_stopped_complete_after_it_restarts(shop, sign_in):
    alice = sign_in(shop.gateway, "alice", "wonderland")
    shop.stop_kafka()
    try:
        placed = [alice.place_order([{"sku": "COFFEE-BEANS", "quantity": 1}]) for _ in range(5)]
        assert [p.status_code for p in placed] == [202] * 5
        assert {alice.order(p.json()["id"])["status"] for p in placed} == {"PENDING"}
    finally:
        shop.start_kafka()

    finished = [alice.wait_until_finished(p.json()["id"], timeout=60) for p in placed]
    assert {o["status"] for o in finished} == {"CONFIRMED"}
    assert alice.stock("COFFEE-BEANS")["available"] == 60 - 5
