"""Products and their prices: the catalog's domain, without Flask."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from polyshop_common.db import transaction

# Append only: each entry is one migration (see polyshop_common.db.migrate).
MIGRATIONS = (
    """CREATE TABLE IF NOT EXISTS products (
        sku TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
        currency TEXT NOT NULL
    )""",
)

COLUMNS = "sku, name, price_cents, currency"


def seed_if_empty(conn: sqlite3.Connection, seed_file: Path) -> int:
    """Load the demo products when the table is empty; returns how many were added."""
    seed = json.loads(seed_file.read_text())
    rows = [(p["sku"], p["name"], p["price_cents"], seed["currency"]) for p in seed["products"]]
    with transaction(conn):
        if conn.execute("SELECT 1 FROM products LIMIT 1").fetchone():
            return 0
        conn.executemany(f"INSERT INTO products ({COLUMNS}) VALUES (?, ?, ?, ?)", rows)
    return len(rows)


def list_products(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(f"SELECT {COLUMNS} FROM products ORDER BY sku").fetchall()
    return [dict(row) for row in rows]


def find_product(conn: sqlite3.Connection, sku: str) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {COLUMNS} FROM products WHERE sku = ?", (sku,)).fetchone()
    return dict(row) if row else None
