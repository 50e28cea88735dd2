"""The registry stopped for a minute: the gateway and the services route
from their cached view, and once it is back every instance is registered
again within one heartbeat interval (plus a second)."""

from __future__ import annotations

import signal
import time

import pytest

from support import poll
from support.faults import HEARTBEAT, LEASE_TTL
from support.load import Load, Mix

OUTAGE = 60.0  # seconds, as the scenario says


@pytest.mark.slow
def test_routing_goes_on_while_the_registry_is_stopped_and_it_heals_after(shop):
    every = shop.registered()
    mix = Mix(order_every=4, pace=0.1)
    with Load(shop.gateway, mix, threads=3, max_seconds=OUTAGE + 40) as load:
        load.wait_for(20, timeout=20)
        shop.stop("registry", sig=signal.SIGTERM)
        load.keep_for(OUTAGE)
        shop.start("registry")
        back_at = time.monotonic()
        poll(lambda: shop.registered() >= every, HEARTBEAT + 5, what="every instance is back")
        healed_in = time.monotonic() - back_at
        # A fresh registry fills up instance by instance: callers must not
        # lose instances they know meanwhile. Watch for a whole lease.
        load.keep_for(LEASE_TTL)
    shop.remember(load)

    assert load.failures() == []
    assert len(load.sent) > 500
    assert healed_in <= HEARTBEAT + 1
