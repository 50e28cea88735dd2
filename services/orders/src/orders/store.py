"""The orders database: tables and the queries on them, nothing else."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from polyshop_common.db import PROCESSED_EVENTS_TABLE
from polyshop_common.outbox import MOVE_SEQ_OUTBOX, SEQ_OUTBOX_TABLES

# Append only: each entry is one migration (see polyshop_common.db.migrate).
# Migration 1 is what every start ran before migrations were numbered: all
# IF NOT EXISTS, so a database made then runs it once more harmlessly.
MIGRATIONS = (
    (
        """CREATE TABLE IF NOT EXISTS orders (
            id TEXT PRIMARY KEY,
            user TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'CANCELLED')),
            items TEXT NOT NULL,
            total_cents INTEGER NOT NULL,
            currency TEXT NOT NULL,
            reason TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS idempotency_keys (
            user TEXT NOT NULL,
            key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            order_id TEXT NOT NULL REFERENCES orders (id),
            PRIMARY KEY (user, key)
        )""",
        # GET /orders: one user's newest orders are found without scanning the table.
        "CREATE INDEX IF NOT EXISTS orders_by_user ON orders (user, created_at)",
        # The timeout sweep: the pending orders, oldest first, without the finished ones.
        "CREATE INDEX IF NOT EXISTS orders_pending ON orders (created_at) WHERE status = 'PENDING'",
        PROCESSED_EVENTS_TABLE,
        *SEQ_OUTBOX_TABLES,
    ),
    # The outbox takes the shape both libraries share (docs/libraries.md).
    MOVE_SEQ_OUTBOX,
)


def insert_order(conn: sqlite3.Connection, order: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO orders (id, user, status, items, total_cents, currency, created_at,"
        " updated_at) VALUES (:id, :user, :status, :items, :total_cents, :currency,"
        " :created_at, :updated_at)",
        order | {"items": json.dumps(order["items"])},
    )


def get_order(conn: sqlite3.Connection, order_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
    return None if row is None else _order(row)


def orders_of(conn: sqlite3.Connection, user: str, limit: int) -> list[dict[str, Any]]:
    """The user's newest orders first; rowid breaks ties within one millisecond."""
    rows = conn.execute(
        "SELECT * FROM orders WHERE user = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
        (user, limit),
    )
    return [_order(row) for row in rows]


def finish_order(
    conn: sqlite3.Connection, order_id: str, status: str, reason: str | None, now: str
) -> bool:
    """PENDING → status; False if the order is unknown or finished already."""
    cursor = conn.execute(
        "UPDATE orders SET status = ?, reason = ?, updated_at = ?"
        " WHERE id = ? AND status = 'PENDING'",
        (status, reason, now, order_id),
    )
    return cursor.rowcount == 1


def pending_since(conn: sqlite3.Connection, before: str, limit: int) -> list[str]:
    """Ids of the orders PENDING since before `before` (an RFC 3339 UTC time), oldest first."""
    rows = conn.execute(
        "SELECT id FROM orders WHERE status = 'PENDING' AND created_at < ?"
        " ORDER BY created_at LIMIT ?",
        (before, limit),
    )
    return [row["id"] for row in rows]


def find_key(conn: sqlite3.Connection, user: str, key: str) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT fingerprint, order_id FROM idempotency_keys WHERE user = ? AND key = ?",
        (user, key),
    ).fetchone()


def save_key(
    conn: sqlite3.Connection, user: str, key: str, fingerprint: str, order_id: str
) -> None:
    conn.execute(
        "INSERT INTO idempotency_keys (user, key, fingerprint, order_id) VALUES (?, ?, ?, ?)",
        (user, key, fingerprint, order_id),
    )


def _order(row: sqlite3.Row) -> dict[str, Any]:
    order = dict(row) | {"items": json.loads(row["items"])}
    if order["reason"] is None:
        del order["reason"]
    return order
