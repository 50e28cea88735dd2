"""The orders side of the saga: finish a PENDING order when the outcome is known.

`payment.authorized` confirms, if it paid what the order costs;
`inventory.rejected` and `payment.declined` cancel with the event's reason
(and the timeout sweeper, in timeouts.py, cancels what waited too long).
The new state and its event (through the outbox) commit in one transaction.
A late or repeated event for an order that is no longer PENDING changes
nothing.

Orders checks what it can of the events it trusts: anyone who can write
to the `payments` topic could otherwise confirm an order with a payment of
one cent. So a `payment.authorized` whose amount or currency differs from the
order cancels it instead (inventory then releases the stock, payments voids
what it authorised) and is logged as a security event.
"""

from __future__ import annotations

import logging
import sqlite3
from functools import partial
from typing import Any

from orders import store
from orders.placing import SOURCE
from polyshop_common import outbox
from polyshop_common.events import Contracts, new_event, utc_now
from polyshop_common.kafka_io import Handler

log = logging.getLogger(__name__)

MISMATCH = "payment does not match the order"


def confirm(contracts: Contracts, event: dict[str, Any], conn: sqlite3.Connection) -> None:
    payment = event["data"]
    order = store.get_order(conn, payment["order_id"])
    if order is not None and not pays_for(payment, order):
        log_mismatch(order, payment)
        finish(conn, contracts, order["id"], "CANCELLED", MISMATCH)
        return
    finish(conn, contracts, payment["order_id"], "CONFIRMED", None)


def pays_for(payment: dict[str, Any], order: dict[str, Any]) -> bool:
    paid = (payment["amount_cents"], payment["currency"])
    return paid == (order["total_cents"], order["currency"])


def log_mismatch(order: dict[str, Any], payment: dict[str, Any]) -> None:
    """A warning an operator can alert on; amounts and ids only, nothing personal.

    Logged also when the order has finished already: the event changes
    nothing then, but whoever sent it is worth knowing about.
    """
    log.warning(
        "security event: %s",
        MISMATCH,
        extra={
            "security_event": "payment_mismatch",
            "order_id": order["id"],
            "order_status": order["status"],
            "payment_id": payment["payment_id"],
            "expected_amount_cents": order["total_cents"],
            "expected_currency": order["currency"],
            "received_amount_cents": payment["amount_cents"],
            "received_currency": payment["currency"],
        },
    )


def cancel_for_stock(contracts: Contracts, event: dict[str, Any], conn: sqlite3.Connection) -> None:
    reason = f"out of stock: {event['data']['reason']}"
    finish(conn, contracts, event["data"]["order_id"], "CANCELLED", reason)


def cancel_for_payment(
    contracts: Contracts, event: dict[str, Any], conn: sqlite3.Connection
) -> None:
    reason = f"payment declined: {event['data']['reason']}"
    finish(conn, contracts, event["data"]["order_id"], "CANCELLED", reason)


def handlers(contracts: Contracts) -> dict[str, Handler]:
    """The consumer's handlers; the events they emit are checked against `contracts`."""
    return {
        "payment.authorized": partial(confirm, contracts),
        "inventory.rejected": partial(cancel_for_stock, contracts),
        "payment.declined": partial(cancel_for_payment, contracts),
    }


TOPICS = ["inventory", "payments"]


def finish(
    conn: sqlite3.Connection,
    contracts: Contracts,
    order_id: str,
    status: str,
    reason: str | None,
) -> bool:
    """PENDING → status, and its event into the outbox, inside the caller's transaction.

    False, changing nothing, if the order is unknown or finished already:
    the status is compared and set in one UPDATE, so of two outcomes racing
    (a payment and the timeout, say) only the first counts.
    """
    if not store.finish_order(conn, order_id, status, reason, utc_now()):
        log.info("order not pending, nothing changed", extra={"order_id": order_id})
        return False
    order = store.get_order(conn, order_id)
    data: dict[str, Any] = {"order_id": order_id, "user": order["user"]}
    if status == "CONFIRMED":
        data |= {"total_cents": order["total_cents"], "currency": order["currency"]}
        event = new_event("order.confirmed", SOURCE, order_id, data)
    else:
        event = new_event("order.cancelled", SOURCE, order_id, data | {"reason": reason})
    outbox.emit(conn, contracts, event)
    log.info("order %s", status.lower(), extra={"order_id": order_id})
    return True
