"""The transactional outbox: events are stored with the change that caused
them, in the same SQLite transaction, and a relay thread publishes them.

So a service never has "the order is stored but its event was lost" (or
the reverse) after a crash: both commit, or neither does. The relay
publishes unsent rows in the order they were written, waits for the broker's
acknowledgement (acks=all), then marks them sent. While Kafka is down rows
pile up and go out when it returns. A crash between publishing and marking
publishes a row twice: consumers deduplicate by event id.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from polyshop_common import db, tracing
from polyshop_common.backoff import Backoff
from polyshop_common.errors import TransientError
from polyshop_common.events import utc_now
from polyshop_common.kafka_io import Producer

log = logging.getLogger(__name__)

OUTBOX_TABLES = (
    """CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        event_id TEXT NOT NULL UNIQUE,
        event TEXT NOT NULL,
        traceparent TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (seq) WHERE sent_at IS NULL",
)


def enqueue(conn: sqlite3.Connection, topic: str, event: dict[str, Any]) -> None:
    """Add an event to the outbox inside the caller's open transaction."""
    conn.execute(
        "INSERT INTO outbox (topic, event_id, event, traceparent, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (topic, event["id"], json.dumps(event), tracing.current(), utc_now()),
    )


def unsent(conn: sqlite3.Connection, limit: int = 100) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT seq, topic, event, traceparent FROM outbox WHERE sent_at IS NULL"
        " ORDER BY seq LIMIT ?",
        (limit,),
    ).fetchall()


def mark_sent(conn: sqlite3.Connection, seqs: list[int]) -> None:
    with db.transaction(conn):
        sent_at = utc_now()
        conn.executemany(
            "UPDATE outbox SET sent_at = ? WHERE seq = ?", [(sent_at, s) for s in seqs]
        )


class OutboxRelay:
    def __init__(
        self,
        db_path: str | Path,
        producer: Producer,
        *,
        idle_seconds: float = 0.5,
        batch_size: int = 100,
        backoff: Backoff = Backoff(),
    ) -> None:
        self.db_path = db_path
        self.producer = producer
        self.idle_seconds = idle_seconds
        self.batch_size = batch_size
        self._backoff = backoff
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Publish now instead of at the next idle tick (after a commit that enqueued)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def publish_pending(self, conn: sqlite3.Connection) -> int:
        """Publish unsent rows in order until none is left; returns how many went out.

        Stops at the first row the broker does not acknowledge (raising), so
        a later row never overtakes an earlier one.
        """
        published = 0
        while not self._stop.is_set() and (rows := unsent(conn, self.batch_size)):
            published += self._publish(conn, rows)
        return published

    def _publish(self, conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> int:
        """Hand every row to the producer, then wait for the acks in order.

        One broker round trip for the batch instead of one per row: at a few
        hundred events a second, waiting row by row was the relay's whole
        time. Rows acknowledged before a failure are marked sent; the failed
        row and those after it stay for the next attempt.
        """
        pending = [
            (
                row["seq"],
                self.producer.send_nowait(
                    row["topic"], json.loads(row["event"]), row["traceparent"]
                ),
            )
            for row in rows
        ]
        sent: list[int] = []
        try:
            for seq, event in pending:
                event.wait()
                sent.append(seq)
        finally:
            if sent:
                mark_sent(conn, sent)
        return len(sent)

    def _run(self) -> None:
        conn = db.connect(self.db_path)
        failures = 0
        try:
            while not self._stop.is_set():
                try:
                    if published := self.publish_pending(conn):
                        log.info("published outbox events", extra={"count": published})
                    failures = 0
                except (TransientError, sqlite3.OperationalError) as error:
                    log.warning("outbox relay will retry: %s", error)
                    self._stop.wait(self._backoff.delay(failures))
                    failures += 1
                    continue
                self._wake.wait(self.idle_seconds)
                self._wake.clear()
        finally:
            conn.close()
