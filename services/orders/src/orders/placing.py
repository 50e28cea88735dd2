"""Placing an order: the order row and its `order.created` event, in one transaction.

With an Idempotency-Key, the same user sending the same key and body again
gets the order made the first time, and nothing new is stored; the same key
with another body is a conflict.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from orders import store
from orders.validation import Line
from polyshop_common import outbox
from polyshop_common.db import transaction
from polyshop_common.events import Contracts, new_event, utc_now

SOURCE = "/orders"


class IdempotencyConflict(Exception):
    """The key was used before with another body."""


class MixedCurrencies(ValueError):
    pass


@dataclass(frozen=True)
class Request:
    user: str
    lines: list[Line]
    idempotency_key: str | None = None

    @property
    def fingerprint(self) -> str:
        canonical = json.dumps([[line.sku, line.quantity] for line in self.lines])
        return hashlib.sha256(canonical.encode()).hexdigest()


def replay(conn: sqlite3.Connection, request: Request) -> dict[str, Any] | None:
    """The order this key made before (same body), None if the key is new."""
    if request.idempotency_key is None:
        return None
    found = store.find_key(conn, request.user, request.idempotency_key)
    if found is None:
        return None
    if found["fingerprint"] != request.fingerprint:
        raise IdempotencyConflict(request.idempotency_key)
    return store.get_order(conn, found["order_id"])


def place(
    conn: sqlite3.Connection,
    contracts: Contracts,
    request: Request,
    products: dict[str, dict[str, Any]],
) -> tuple[dict[str, Any], bool]:
    """Store a PENDING order and its event; (order, True), or (the earlier order, False)."""
    order = new_order(request, products)
    with transaction(conn):
        earlier = replay(conn, request)  # again, inside the lock: two requests may race
        if earlier is not None:
            return earlier, False
        store.insert_order(conn, order)
        if request.idempotency_key is not None:
            store.save_key(
                conn, request.user, request.idempotency_key, request.fingerprint, order["id"]
            )
        outbox.emit(conn, contracts, created_event(order))
    return order, True


def new_order(request: Request, products: dict[str, dict[str, Any]]) -> dict[str, Any]:
    currencies = {products[line.sku]["currency"] for line in request.lines}
    if len(currencies) != 1:
        raise MixedCurrencies(f"the products are priced in {', '.join(sorted(currencies))}")
    items = [
        {"sku": ln.sku, "quantity": ln.quantity, "price_cents": products[ln.sku]["price_cents"]}
        for ln in request.lines
    ]
    now = utc_now()
    return {
        "id": str(uuid.uuid4()),
        "user": request.user,
        "status": "PENDING",
        "items": items,
        "total_cents": sum(item["quantity"] * item["price_cents"] for item in items),
        "currency": currencies.pop(),
        "created_at": now,
        "updated_at": now,
    }


def created_event(order: dict[str, Any]) -> dict[str, Any]:
    fields = ("user", "items", "total_cents", "currency")
    data = {"order_id": order["id"]} | {name: order[name] for name in fields}
    return new_event("order.created", SOURCE, order["id"], data)
