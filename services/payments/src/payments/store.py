"""The payments database: tables and the queries on them, nothing else."""

from __future__ import annotations

import sqlite3
from typing import Any

from polyshop_common.db import PROCESSED_EVENTS_TABLE
from polyshop_common.outbox import MOVE_SEQ_OUTBOX, SEQ_OUTBOX_TABLES

# Append only: each entry is one migration (see polyshop_common.db.migrate).
# Migration 1 is what every start ran before migrations were numbered: all
# IF NOT EXISTS, so a database made then runs it once more harmlessly.
MIGRATIONS = (
    (
        """CREATE TABLE IF NOT EXISTS payments (
            id TEXT PRIMARY KEY,
            order_id TEXT NOT NULL UNIQUE,
            user TEXT NOT NULL,
            amount_cents INTEGER NOT NULL,
            currency TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('AUTHORIZED', 'DECLINED')),
            reason TEXT,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS payments_by_user ON payments (user, created_at)",
        # An authorisation is never rewritten: its void is a row of its own, so a
        # payments table made before voids existed keeps working as it is.
        """CREATE TABLE IF NOT EXISTS voids (
            payment_id TEXT PRIMARY KEY REFERENCES payments (id),
            reason TEXT NOT NULL,
            voided_at TEXT NOT NULL
        )""",
        # Orders known to be cancelled: a reservation read after the cancellation
        # authorises nothing.
        """CREATE TABLE IF NOT EXISTS cancelled_orders (
            order_id TEXT PRIMARY KEY,
            reason TEXT NOT NULL,
            cancelled_at TEXT NOT NULL
        )""",
        PROCESSED_EVENTS_TABLE,
        *SEQ_OUTBOX_TABLES,
    ),
    # The outbox takes the shape both libraries share (docs/libraries.md).
    MOVE_SEQ_OUTBOX,
)

LIMIT = 100
# A payment as GET /payments shows it: VOIDED, with the void's reason, once voided.
SELECT_PAYMENTS = """
    SELECT p.id, p.order_id, p.user, p.amount_cents, p.currency,
        CASE WHEN v.payment_id IS NULL THEN p.status ELSE 'VOIDED' END AS status,
        COALESCE(v.reason, p.reason) AS reason, p.created_at
    FROM payments p LEFT JOIN voids v ON v.payment_id = p.id"""


def insert_payment(conn: sqlite3.Connection, payment: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO payments (id, order_id, user, amount_cents, currency, status, reason,"
        " created_at) VALUES (:id, :order_id, :user, :amount_cents, :currency, :status,"
        " :reason, :created_at)",
        payment,
    )


def insert_void(conn: sqlite3.Connection, payment_id: str, reason: str, now: str) -> None:
    conn.execute(
        "INSERT INTO voids (payment_id, reason, voided_at) VALUES (?, ?, ?)",
        (payment_id, reason, now),
    )


def remember_cancelled(conn: sqlite3.Connection, order_id: str, reason: str, now: str) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO cancelled_orders (order_id, reason, cancelled_at) VALUES (?, ?, ?)",
        (order_id, reason, now),
    )


def is_cancelled(conn: sqlite3.Connection, order_id: str) -> bool:
    found = conn.execute("SELECT 1 FROM cancelled_orders WHERE order_id = ?", (order_id,))
    return found.fetchone() is not None


def for_order(conn: sqlite3.Connection, order_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(f"{SELECT_PAYMENTS} WHERE p.order_id = ?", (order_id,)).fetchall()
    return [_payment(row) for row in rows]


def for_user(conn: sqlite3.Connection, user: str | None) -> list[dict[str, Any]]:
    """The newest payments of `user`, or of everyone when `user` is None."""
    rows = conn.execute(
        f"{SELECT_PAYMENTS} WHERE ? IS NULL OR p.user = ? ORDER BY p.created_at DESC LIMIT ?",
        (user, user, LIMIT),
    ).fetchall()
    return [_payment(row) for row in rows]


def _payment(row: sqlite3.Row) -> dict[str, Any]:
    payment = dict(row)
    if payment["reason"] is None:
        del payment["reason"]
    return payment
