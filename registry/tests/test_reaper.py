"""The reaper thread evicts expired leases on its own and logs each eviction."""

from __future__ import annotations

import logging

from registry.models import Registration
from registry.reaper import Reaper


def test_reaper_evicts_an_expired_instance_and_logs_it(store, clock, wait_until, caplog):
    caplog.set_level(logging.INFO, logger="registry.reaper")
    registration = Registration(instance_id="catalog-a", host="h", port=5001)
    store.register("catalog", registration, "shop")
    reaper = Reaper(store, interval_seconds=0.01)
    reaper.start()
    try:
        clock.advance(store.lease_ttl_seconds + 1)
        wait_until(lambda: store.evictions())
    finally:
        reaper.stop(timeout=5)

    [record] = [r for r in caplog.records if r.name == "registry.reaper"]
    assert (record.service_name, record.instance_id) == ("catalog", "catalog-a")
    assert "evicted" in record.getMessage()


def test_reaper_stops_when_asked(store):
    reaper = Reaper(store, interval_seconds=60)
    reaper.start()

    reaper.stop(timeout=5)

    assert not reaper.running
