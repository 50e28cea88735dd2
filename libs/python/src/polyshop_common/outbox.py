"""The transactional outbox: events are stored with the change that caused
them, in the same SQLite transaction, and a relay thread publishes them.

So a service never has "the order is stored but its event was lost" (or
the reverse) after a crash: both commit, or neither does. The relay
publishes unsent rows in the order they were written, waits for the broker's
acknowledgement (acks=all), then marks them sent. While Kafka is down rows
pile up and go out when it returns. A crash between publishing and marking
publishes a row twice: consumers deduplicate by event id.

Several instances of a service may share its database file (scaled
containers, local instances with one DATA_DIR), each with a relay. Two
relays reading the same unsent rows would publish them twice and mix up
the order of one order's events, so a relay publishes only while it holds
the outbox lease, the one row of `outbox_lease`: it takes or renews it
before each pass, and marks rows sent only while the lease is still its
own. A relay that stops hands the lease back; one that dies loses it when
it expires. See docs/adr/0008-one-relay-per-outbox.md.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from polyshop_common import db, faults, telemetry
from polyshop_common.backoff import Backoff
from polyshop_common.errors import TransientError
from polyshop_common.events import Contracts, utc_now
from polyshop_common.kafka_io import Producer

log = logging.getLogger(__name__)

# Renewed at every pass and idle tick, a fraction of a second apart: only a
# relay that died (or hangs) lets it run out.
LEASE_SECONDS = 5.0

# The one outbox shape of both libraries (libs/node/src/outbox.js has the
# same): `value` is the event as published, `key` its subject, `headers` the
# W3C context of the change that wrote it, as JSON (`traceparent`,
# `tracestate`): the relay's `send` span continues that trace. `id` is the
# order of publishing.
OUTBOX_TABLE = (
    """CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        headers TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        sent_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL",
)

# expires_at: milliseconds since the epoch, compared with the clocks of
# the relays sharing the file (one host, one clock).
OUTBOX_LEASE_TABLE = """CREATE TABLE IF NOT EXISTS outbox_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
)"""

# The outbox and its lease, one migration, for a database that never had an outbox.
OUTBOX_TABLES = (*OUTBOX_TABLE, OUTBOX_LEASE_TABLE)

# The outbox as Python services first made it, ordered by `seq`, the event
# in `event`: part of migration 1 of orders and payments, kept as it was,
# because their databases in the field ran it. MOVE_SEQ_OUTBOX moves it on.
SEQ_OUTBOX_TABLES = (
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
    OUTBOX_LEASE_TABLE,
)

# One migration: the `seq` outbox becomes the shared shape, every row kept
# with its number as its id, so unsent rows go out in the order they had.
# Run while no relay publishes from the file (a service migrates at start).
MOVE_SEQ_OUTBOX = (
    """CREATE TABLE outbox_shared (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        headers TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        sent_at TEXT
    )""",
    """INSERT INTO outbox_shared (id, topic, key, value, headers, created_at, sent_at)
        SELECT seq, topic, json_extract(event, '$.subject'), event,
            CASE WHEN traceparent IS NULL THEN '{}'
                ELSE json_object('traceparent', traceparent) END,
            created_at, sent_at
        FROM outbox ORDER BY seq""",
    "DROP TABLE outbox",
    "ALTER TABLE outbox_shared RENAME TO outbox",
    "CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL",
)


def emit(conn: sqlite3.Connection, contracts: Contracts, event: dict[str, Any]) -> dict[str, Any]:
    """Add an event to the outbox, on the topic its type travels on, inside
    the caller's open transaction; returns it.

    The event is checked against its contract first: one that breaks it
    raises InvalidEvent and stores nothing, so the caller's transaction
    rolls back with it instead of publishing what every consumer would
    dead-letter.
    """
    contracts.validate(event)
    enqueue(conn, contracts.topic_of(event["type"]), event)
    return event


def enqueue(conn: sqlite3.Connection, topic: str, event: dict[str, Any]) -> None:
    """Add an event to the outbox inside the caller's open transaction, unchecked
    (`emit` checks it first)."""
    conn.execute(
        "INSERT INTO outbox (topic, key, value, headers, created_at) VALUES (?, ?, ?, ?, ?)",
        (topic, event["subject"], json.dumps(event), json.dumps(telemetry.carrier()), utc_now()),
    )


def unsent(conn: sqlite3.Connection, limit: int = 100) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT id, topic, key, value, headers FROM outbox WHERE sent_at IS NULL"
        " ORDER BY id LIMIT ?",
        (limit,),
    ).fetchall()


def mark_sent(conn: sqlite3.Connection, ids: list[int], holder: str) -> bool:
    """Mark rows sent if `holder` still holds the lease; False, marking nothing, if not."""
    with db.transaction(conn):
        if lease_holder(conn) != holder:
            return False
        sent_at = utc_now()
        conn.executemany("UPDATE outbox SET sent_at = ? WHERE id = ?", [(sent_at, i) for i in ids])
        return True


def new_holder_id() -> str:
    """Unique to one relay, and says which process it is: host/pid/random."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"


def lease_holder(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT holder FROM outbox_lease WHERE id = 1").fetchone()
    return row["holder"] if row else None


def take_lease(conn: sqlite3.Connection, holder: str, now_ms: int, ttl_ms: int) -> str:
    """Take or renew the lease, unless another holder's has not expired; returns its holder.

    BEGIN IMMEDIATE makes the read and the write one step: two relays
    cannot both find the lease free.
    """
    with db.transaction(conn):
        row = conn.execute("SELECT holder, expires_at FROM outbox_lease WHERE id = 1").fetchone()
        if row and row["holder"] != holder and row["expires_at"] > now_ms:
            return row["holder"]
        conn.execute(
            "INSERT OR REPLACE INTO outbox_lease (id, holder, expires_at) VALUES (1, ?, ?)",
            (holder, now_ms + ttl_ms),
        )
        return holder


def release_lease(conn: sqlite3.Connection, holder: str) -> None:
    with db.transaction(conn):
        conn.execute("DELETE FROM outbox_lease WHERE id = 1 AND holder = ?", (holder,))


class OutboxRelay:
    def __init__(
        self,
        db_path: str | Path,
        producer: Producer,
        *,
        idle_seconds: float = 0.5,
        batch_size: int = 100,
        backoff: Backoff = Backoff(),
        lease_seconds: float = LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db_path = db_path
        self.producer = producer
        self.idle_seconds = idle_seconds
        self.batch_size = batch_size
        self.holder = new_holder_id()
        self._backoff = backoff
        self._lease_ms = round(lease_seconds * 1000)
        self._clock = clock
        self._seen_holder: str | None = None  # of the lease, when this relay last looked
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def holds_lease(self) -> bool:
        """For logs and operators only: readiness never depends on it."""
        return self._seen_holder == self.holder

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

        Publishes nothing while another relay holds the lease. Stops at the
        first row the broker does not acknowledge (raising), so a later row
        never overtakes an earlier one.
        """
        if faults.on(faults.STOP_OUTBOX_RELAY):
            return 0  # rows wait in the outbox, as they do while Kafka is away
        published = 0
        while (
            not self._stop.is_set()
            and self._renew_lease(conn)
            and (rows := unsent(conn, self.batch_size))
        ):
            published += self._publish(conn, rows)
        return published

    def _publish(self, conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> int:
        """Hand every row to the producer, then wait for the acks in order.

        One broker round trip for the batch instead of one per row: at a few
        hundred events a second, waiting row by row was the relay's whole
        time. Rows acknowledged before a failure are marked sent; the failed
        row and those after it stay for the next attempt.
        """
        # The producer keys each record by the event's subject, which is the row's key.
        copies = 2 if faults.on(faults.DUPLICATE_EVENTS) else 1  # consumers must drop the second
        pending = [
            (
                row["id"],
                self.producer.send_nowait(
                    row["topic"],
                    json.loads(row["value"]),
                    telemetry.context_of(json.loads(row["headers"])),
                ),
            )
            for row in rows
            for _ in range(copies)
        ]
        acked: list[int] = []
        try:
            for row_id, event in pending:
                event.wait()
                if row_id not in acked[-1:]:
                    acked.append(row_id)
        finally:
            marked = self._mark_sent(conn, acked)
        return marked

    def _mark_sent(self, conn: sqlite3.Connection, ids: list[int]) -> int:
        if not ids or mark_sent(conn, ids, self.holder):
            return len(ids)
        # The pass outlasted the lease and another relay took it: it publishes
        # these rows again (consumers drop the copies by event id).
        self._see(lease_holder(conn))
        return 0

    def _renew_lease(self, conn: sqlite3.Connection) -> bool:
        self._see(take_lease(conn, self.holder, round(self._clock() * 1000), self._lease_ms))
        return self.holds_lease

    def _see(self, holder: str | None) -> None:
        """Log when the lease changes hands, as this relay sees it."""
        if holder == self._seen_holder:
            return
        if holder == self.holder:
            log.info("took the outbox lease", extra={"holder": holder})
        elif self.holds_lease:
            log.warning("lost the outbox lease", extra={"holder": self.holder, "held_by": holder})
        elif holder is not None:
            log.info("another relay holds the outbox lease", extra={"held_by": holder})
        self._seen_holder = holder

    def _release_lease(self, conn: sqlite3.Connection) -> None:
        held = self.holds_lease
        try:
            release_lease(conn, self.holder)
        except sqlite3.Error as error:
            log.warning("outbox lease not released, it will expire: %s", error)
            return
        self._seen_holder = None
        if held:
            log.info("released the outbox lease", extra={"holder": self.holder})

    def _run(self) -> None:
        self.producer.connect()
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
            self._release_lease(conn)
            conn.close()
