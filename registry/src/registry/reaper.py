"""The background thread that ends expired leases.

Every `interval` seconds it asks the store to evict instances that missed
their heartbeats, and logs each eviction. Evicting moves the change index,
so watchers hear about a dead instance within one interval of its expiry.
"""

from __future__ import annotations

import logging
import threading

from registry.metrics import EVICTIONS
from registry.models import Eviction
from registry.serialize import iso_time, log_fields
from registry.store import Store

log = logging.getLogger(__name__)


class Reaper:
    def __init__(self, store: Store, interval_seconds: float) -> None:
        self._store = store
        self._interval = interval_seconds
        self._stopped = threading.Event()
        # A daemon thread: it must never keep a stopping process alive.
        self._thread = threading.Thread(target=self._run, name="registry-reaper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float | None = None) -> None:
        self._stopped.set()
        self._thread.join(timeout)

    def sweep(self) -> list[Eviction]:
        evictions = self._store.evict_expired()
        for eviction in evictions:
            EVICTIONS.labels(eviction.service).inc()
            log.info(
                "instance evicted: no heartbeat since %s",
                iso_time(eviction.last_heartbeat_at),
                extra=log_fields(eviction.service, eviction.instance_id),
            )
        return evictions

    def _run(self) -> None:
        # Event.wait doubles as the sleep: stop() ends the loop at once.
        while not self._stopped.wait(self._interval):
            try:
                self.sweep()
            except Exception:
                # Keep sweeping: a registry without its reaper would list
                # dead instances forever.
                log.exception("eviction sweep failed")
