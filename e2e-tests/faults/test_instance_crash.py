"""An instance killed with SIGKILL while the other keeps serving: the
clients see nothing, the gateway stops sending to the dead instance at its
first failure, and a restarted instance gets traffic again at once."""

from __future__ import annotations

import signal
import time

import pytest

from support import poll
from support.faults import GATEWAY_WORKERS, LEASE_TTL, log_time, wait_until_routed
from support.load import Load, Mix

KILLED = ("orders-2", "inventory-2")  # one Python, one Node.js instance
THREADS = 4


@pytest.mark.slow
def test_killing_one_of_two_instances_fails_no_retryable_request(shop):
    reads = ("/api/stock/TEA-EARL-GREY", "/api/orders/{order}", "/api/products")
    mix = Mix(reads, order_every=3)
    dead = {name: shop.instance_id(name) for name in KILLED}
    with Load(shop.gateway, mix, threads=THREADS, max_seconds=90) as load:
        load.wait_for(40, timeout=20)
        killed_at = time.time()
        for name in KILLED:
            shop.stop(name, sig=signal.SIGKILL)
        poll(
            lambda: not shop.registered() & set(dead.values()),
            LEASE_TTL + 3,
            what="the registry evicts the dead instances",
        )
        load.wait_for(40, timeout=20)
        restarted_at = time.time()
        for name in KILLED:
            shop.start(name)
        ready_at = time.time()
        # Ready means registered too: the first request may come before ready_at.
        routed = {i: wait_until_routed(shop, i, restarted_at, timeout=10) for i in dead.values()}
        load.wait_for(40, timeout=20)
    shop.remember(load)

    retryable = load.failures(lambda s: s.method == "GET" or s.key is not None)
    assert retryable == []
    log = shop.gateway_log()
    for instance in dead.values():
        failed = [
            line["message"]
            for line in log
            if line.get("message", "").startswith(f"connection to {instance} failed")
            and killed_at <= log_time(line) < restarted_at
        ]
        # The first failure ejects the instance, in the gateway worker that
        # saw it (each worker keeps its own breakers). Until then each load
        # thread's request may have picked it, at most once per worker: the
        # requests in flight at the kill, and the ones that started before
        # their worker's first failure came back (several at once, under load).
        assert len(failed) <= THREADS * GATEWAY_WORKERS, failed
        assert not [
            line
            for line in log
            if line.get("upstream") == instance and killed_at + 0.2 <= log_time(line) < restarted_at
        ]
        assert routed[instance] - ready_at <= 3.0
