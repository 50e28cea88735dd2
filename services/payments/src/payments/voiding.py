"""The payments side of a cancelled order: void what was authorised, and remember.

On `order.cancelled` (stock refused, payment declined, or the saga timed
out) the order is remembered as cancelled and a payment AUTHORIZED for it
is voided: the void and its `payment.voided` event (through the outbox)
commit in the consumer's transaction, like an authorisation. A payment
declined, or none at all, needs no void. Remembering matters when the
cancellation overtakes the reservation (orders timed out while inventory
was away): the `inventory.reserved` read afterwards authorises nothing
(authorising.py), so nothing is held for an order that no longer exists.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from payments import store
from payments.authorising import SOURCE
from polyshop_common import outbox
from polyshop_common.events import Contracts, new_event, utc_now

TOPICS = ["orders"]
MAX_REASON = 500  # the contract's longest reason

log = logging.getLogger(__name__)


def handlers(contracts: Contracts) -> dict[str, Callable[[dict, sqlite3.Connection], None]]:
    def on_cancelled(event: dict[str, Any], conn: sqlite3.Connection) -> None:
        void(conn, contracts, event["data"]["order_id"], event["data"]["reason"])

    return {"order.cancelled": on_cancelled}


def void(
    conn: sqlite3.Connection, contracts: Contracts, order_id: str, cancel_reason: str
) -> dict[str, Any] | None:
    """Remember the cancellation; void the order's authorised payment; returns it, if any."""
    store.remember_cancelled(conn, order_id, cancel_reason, utc_now())
    authorised = [p for p in store.for_order(conn, order_id) if p["status"] == "AUTHORIZED"]
    if not authorised:
        return None
    payment = authorised[0]
    reason = within_contract(f"order cancelled: {cancel_reason}")
    store.insert_void(conn, payment["id"], reason, utc_now())
    outbox.emit(conn, contracts, voided_event(payment, reason))
    log.info("payment voided", extra={"order_id": order_id})
    return payment


def voided_event(payment: dict[str, Any], reason: str) -> dict[str, Any]:
    fields = ("order_id", "user", "amount_cents", "currency")
    data = {"payment_id": payment["id"]} | {name: payment[name] for name in fields}
    return new_event("payment.voided", SOURCE, payment["order_id"], data | {"reason": reason})


def within_contract(text: str) -> str:
    return text if len(text) <= MAX_REASON else f"{text[: MAX_REASON - 1]}…"
