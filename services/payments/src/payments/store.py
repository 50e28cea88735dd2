"""The payments database: tables and the queries on them, nothing else."""

from __future__ import annotations

import sqlite3
from typing import Any

from polyshop_common.db import PROCESSED_EVENTS_TABLE
from polyshop_common.outbox import OUTBOX_TABLES

SCHEMA = (
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
    PROCESSED_EVENTS_TABLE,
    *OUTBOX_TABLES,
)

LIMIT = 100


def insert_payment(conn: sqlite3.Connection, payment: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO payments (id, order_id, user, amount_cents, currency, status, reason,"
        " created_at) VALUES (:id, :order_id, :user, :amount_cents, :currency, :status,"
        " :reason, :created_at)",
        payment,
    )


def for_order(conn: sqlite3.Connection, order_id: str) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT * FROM payments WHERE order_id = ?", (order_id,)).fetchall()
    return [_payment(row) for row in rows]


def for_user(conn: sqlite3.Connection, user: str | None) -> list[dict[str, Any]]:
    """The newest payments of `user`, or of everyone when `user` is None."""
    rows = conn.execute(
        "SELECT * FROM payments WHERE ? IS NULL OR user = ? ORDER BY created_at DESC LIMIT ?",
        (user, user, LIMIT),
    ).fetchall()
    return [_payment(row) for row in rows]


def _payment(row: sqlite3.Row) -> dict[str, Any]:
    payment = dict(row)
    if payment["reason"] is None:
        del payment["reason"]
    return payment
