"""The payments side of the saga: on `inventory.reserved`, authorise or decline.

The decision, the payment row and its event (through the outbox) commit in
the consumer's transaction, so a crash cannot leave a payment without its
event, or an event without its payment. One payment per order: a second
`inventory.reserved` for the same order (even with another event id)
changes nothing. Nor does one for an order known to be cancelled
(voiding.py): it is neither authorised nor declined, and nothing is emitted,
since the order has ended and nobody waits for the answer.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Callable
from typing import Any

from payments import store
from polyshop_common import faults, outbox
from polyshop_common.events import Contracts, new_event, utc_now

SOURCE = "/payments"
TOPICS = ["inventory"]

log = logging.getLogger(__name__)


def decide(amount_cents: int, decline_over_cents: int) -> str | None:
    """None to authorise, or the reason to decline (the demo rule: a limit)."""
    if faults.on(faults.DECLINE_PAYMENTS):
        return "the fault switch 'decline-payments' is on"
    if amount_cents > decline_over_cents:
        return f"amount {amount_cents} cents is over the limit of {decline_over_cents} cents"
    return None


def handlers(
    contracts: Contracts, decline_over_cents: int
) -> dict[str, Callable[[dict, sqlite3.Connection], None]]:
    def on_reserved(event: dict[str, Any], conn: sqlite3.Connection) -> None:
        authorise(conn, contracts, event["data"], decline_over_cents)

    return {"inventory.reserved": on_reserved}


def authorise(
    conn: sqlite3.Connection,
    contracts: Contracts,
    reserved: dict[str, Any],
    decline_over_cents: int,
) -> None:
    order_id = reserved["order_id"]
    if store.for_order(conn, order_id):
        log.info("order paid for already, event ignored", extra={"order_id": order_id})
        return
    if store.is_cancelled(conn, order_id):
        log.info("order cancelled before its payment, event ignored", extra={"order_id": order_id})
        return
    reason = decide(reserved["total_cents"], decline_over_cents)
    payment = {
        "id": str(uuid.uuid4()),
        "order_id": order_id,
        "user": reserved["user"],
        "amount_cents": reserved["total_cents"],
        "currency": reserved["currency"],
        "status": "DECLINED" if reason else "AUTHORIZED",
        "reason": reason,
        "created_at": utc_now(),
    }
    store.insert_payment(conn, payment)
    outbox.emit(conn, contracts, payment_event(payment))
    log.info("payment %s", payment["status"].lower(), extra={"order_id": order_id})


def payment_event(payment: dict[str, Any]) -> dict[str, Any]:
    fields = ("order_id", "user", "amount_cents", "currency")
    data = {"payment_id": payment["id"]} | {name: payment[name] for name in fields}
    if payment["reason"]:
        data["reason"] = payment["reason"]
        return new_event("payment.declined", SOURCE, payment["order_id"], data)
    return new_event("payment.authorized", SOURCE, payment["order_id"], data)
