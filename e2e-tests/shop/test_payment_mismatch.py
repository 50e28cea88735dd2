"""A forged payment end to end (docs/saga.md, "Payments orders can check"):
while payments is stopped, someone who can write to the `payments` topic
says an order was paid, for another amount. Orders cancels it instead of
confirming it and logs a security event; inventory releases the stock; when
payments comes back, no payment of that order is left authorised."""

from __future__ import annotations

import json

import pytest

from polyshop_common.events import new_event
from support import poll
from support.faults import LONG_SAGA_TIMEOUTS, read_json_lines
from support.kafka_probe import committed, find_record, send_raw
from support.shop import Customer, running_shop

MISMATCH = "payment does not match the order"


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """A shop of its own (this test stops payments), warmed up: one order
    confirmed end to end first, so every producer and consumer is connected
    before the test's own order; and a saga timeout long enough that only
    the forged payment can end that order."""
    with running_shop(tmp_path_factory.mktemp("mismatch"), LONG_SAGA_TIMEOUTS) as started:
        with Customer(started.gateway, "bob", "builder") as bob:
            placed = bob.place_order([{"sku": "TEA-SENCHA", "quantity": 1}])
            assert placed.status_code == 202, placed.text
            ended = bob.wait_until_finished(placed.json()["id"], timeout=60)
        assert ended["status"] == "CONFIRMED"
        yield started


def event_of(shop, topic: str, order_id: str, event_type: str):
    def match(record) -> bool:
        return record.key == order_id.encode() and json.loads(record.value)["type"] == event_type

    return find_record(shop.bootstrap, topic, match, timeout=30)


def forge_payment(shop, order: dict, amount_cents: int) -> None:
    data = {
        "order_id": order["id"],
        "payment_id": "forged-1",
        "user": order["user"],
        "amount_cents": amount_cents,
        "currency": order["currency"],
    }
    event = new_event("payment.authorized", "/payments", order["id"], data)
    send_raw(shop.bootstrap, "payments", order["id"].encode(), json.dumps(event).encode())


def security_events(shop, order_id: str) -> list[dict]:
    return [
        line
        for line in read_json_lines(shop.stack.log_dir / "orders.log")
        if line.get("security_event") and line.get("order_id") == order_id
    ]


def has_read(shop, group: str, record) -> bool:
    return committed(shop.bootstrap, group, record.topic, record.partition) > record.offset


def test_a_payment_for_another_amount_cancels_the_order_and_is_logged(shop, sign_in):
    alice = sign_in(shop.gateway, "alice", "wonderland")
    payments = shop.stack.running["payments"].piece
    shop.stack.stop("payments")
    try:
        placed = alice.place_order([{"sku": "TEA-SENCHA", "quantity": 2}])
        assert placed.status_code == 202
        order = placed.json()
        reserved = event_of(shop, "inventory", order["id"], "inventory.reserved")

        forge_payment(shop, order, amount_cents=1)
        ended = alice.wait_until_finished(order["id"], timeout=20)
        assert (ended["status"], ended.get("reason")) == ("CANCELLED", MISMATCH)
    finally:
        shop.stack.start(payments)

    released = json.loads(event_of(shop, "inventory", order["id"], "inventory.released").value)
    assert released["data"]["reason"] == f"order cancelled: {MISMATCH}"

    [logged] = poll(lambda: security_events(shop, order["id"]), 10, what="the security event")
    assert logged["level"] in {"warning", "error", "critical"}
    expected = {
        "security_event": "payment_mismatch",
        "expected_amount_cents": order["total_cents"],
        "expected_currency": order["currency"],
        "received_amount_cents": 1,
        "received_currency": order["currency"],
    }
    assert {name: logged.get(name) for name in expected} == expected
    assert "alice" not in json.dumps(logged)

    # Back, payments reads the reservation and the cancellation, in either
    # order: it authorises and voids, or remembers and authorises nothing.
    cancelled = event_of(shop, "orders", order["id"], "order.cancelled")
    poll(
        lambda: has_read(shop, "payments", reserved) and has_read(shop, "payments", cancelled),
        30,
        interval=0.2,
        what="payments read the reservation and the cancellation",
    )
    paid = alice.get(f"/api/payments?order_id={order['id']}").json()
    assert {payment["status"] for payment in paid} <= {"VOIDED"}, paid
    assert alice.order(order["id"])["reason"] == MISMATCH
