"""The saga timeout: an order still PENDING after `saga_timeout_seconds` is cancelled.

Without it an order whose event is stuck (inventory down, an event waiting
in a retry topic) would stay PENDING for ever, its stock possibly held. The
sweeper is a worker of the Runtime, as the relay and the consumer are: a
thread that looks once a second. Each cancellation is `saga.finish`, in a
transaction of its own, so the order's new state and its `order.cancelled`
commit together, and only from PENDING: a `payment.authorized` handled at
the same moment either confirms first (the sweep then changes nothing) or
finds the order cancelled (and changes nothing). Inventory and payments
undo what they did for the order when they read the `order.cancelled`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orders import saga, store
from polyshop_common import db
from polyshop_common.events import Contracts

log = logging.getLogger(__name__)

TIMED_OUT = "timed out"
SWEEP_SECONDS = 1.0
BATCH = 100  # per sweep: a backlog is worked off over a few seconds, locks stay short


def cancel_overdue(
    conn: sqlite3.Connection, contracts: Contracts, timeout_seconds: float, now: datetime
) -> list[str]:
    """Cancel the orders PENDING for longer than `timeout_seconds`; returns their ids."""
    before = rfc3339(now - timedelta(seconds=timeout_seconds))
    cancelled = []
    for order_id in store.pending_since(conn, before, BATCH):
        with db.transaction(conn):
            if saga.finish(conn, contracts, order_id, "CANCELLED", TIMED_OUT):
                cancelled.append(order_id)
    return cancelled


def rfc3339(moment: datetime) -> str:
    """As `utc_now` writes times (2026-11-27T10:15:00.123Z), so they compare as text."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TimeoutSweeper:
    """A Runtime worker: `start`, `stop`, `running`."""

    def __init__(
        self,
        db_path: str | Path,
        contracts: Contracts,
        timeout_seconds: float,
        wake_relay: Callable[[], None],
        *,
        interval_seconds: float = SWEEP_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db_path = db_path
        self.contracts = contracts
        self.timeout_seconds = timeout_seconds
        self.wake_relay = wake_relay  # publish the order.cancelled events now
        self.interval_seconds = interval_seconds
        self.clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="saga-timeouts", daemon=True)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def sweep(self, conn: sqlite3.Connection) -> list[str]:
        cancelled = cancel_overdue(conn, self.contracts, self.timeout_seconds, self.clock())
        if cancelled:
            log.info("orders timed out", extra={"count": len(cancelled)})
            self.wake_relay()
        return cancelled

    def _run(self) -> None:
        conn = db.connect(self.db_path)
        try:
            while not self._stop.wait(self.interval_seconds):
                try:
                    self.sweep(conn)
                except sqlite3.OperationalError as error:  # busy or locked: next second
                    log.warning("timeout sweep will retry: %s", error)
        finally:
            conn.close()
