"""The broker stopped for 20 s while orders are placed: every order is
accepted, and finishes exactly once after the broker is back."""

from __future__ import annotations

import signal

import pytest

from support.faults import assert_totals_add_up
from support.load import Load, Mix

OUTAGE = 20.0


@pytest.mark.slow
def test_orders_placed_while_the_broker_is_stopped_all_finish_exactly_once(shop, stock_before):
    mix = Mix(order_every=2, pace=0.2)
    with Load(shop.gateway, mix, threads=2, max_seconds=OUTAGE + 150) as load:
        load.wait_for(20, timeout=20)
        shop.stop("kafka", sig=signal.SIGTERM)
        load.keep_for(OUTAGE)
        shop.start_kafka()  # up to a minute on two busy cores
        load.wait_for(20, timeout=20)
    placed = shop.remember(load)

    assert load.failures() == []
    assert len(placed) > 50
    assert_totals_add_up(shop, placed, stock_before)
