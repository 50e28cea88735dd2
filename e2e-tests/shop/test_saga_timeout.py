"""Saga timeouts end to end (docs/saga.md, "Timeouts"): orders placed while
inventory is stopped are cancelled `timed out`; when inventory comes back
and reads the events it missed, the stock adds up, no payment of those
orders is left authorised, and the orders stay cancelled."""

from __future__ import annotations

import json

import pytest

from support import poll
from support.kafka_probe import committed, end_offsets, records
from support.shop import running_shop

SAGA_TIMEOUT_SECONDS = 3
# Longer than the saga timeout, as it must be.
RESERVATION_TTL_SECONDS = 6
ENV = {
    "ORDERS_SAGA_TIMEOUT_SECONDS": str(SAGA_TIMEOUT_SECONDS),
    "INVENTORY_RESERVATION_TTL_SECONDS": str(RESERVATION_TTL_SECONDS),
}
ORDERS = [
    [{"sku": "TEA-SENCHA", "quantity": 2}],
    [{"sku": "TEA-SENCHA", "quantity": 1}, {"sku": "MUG-STONEWARE", "quantity": 3}],
    [{"sku": "MUG-STONEWARE", "quantity": 1}],
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    # A stack of its own: this test stops a service, and sets short timeouts.
    with running_shop(tmp_path_factory.mktemp("timeouts"), ENV) as started:
        yield started


# Where a record keyed by an order may be on its way into inventory.
INTO_INVENTORY = ["orders", "orders.retry.1", "orders.retry.2", "orders.retry.3", "orders.dlq"]


def released_all(shop, order_ids: list[str]) -> dict[str, str] | None:
    """The reason of each order's `inventory.released`, once every order has one."""
    wanted = {order_id.encode() for order_id in order_ids}
    reasons = {}
    for record in records(shop.bootstrap, "inventory", lambda r: r.key in wanted):
        event = json.loads(record.value)
        if event["type"] == "inventory.released":
            reasons[record.key.decode()] = event["data"]["reason"]
    return reasons if reasons.keys() == set(order_ids) else None


def story(shop, order_id: str) -> list[str]:
    """The types of the records keyed by the order on inventory's topics in
    and out, topic by topic: what a failure needs to say what happened."""
    key = order_id.encode()
    return [
        f"{topic}: {json.loads(record.value).get('type', '?')}"
        for topic in [*INTO_INVENTORY, "inventory"]
        for record in records(shop.bootstrap, topic, lambda r: r.key == key)
    ]


def consumed_everything(shop, group: str, topic: str) -> bool:
    ends = end_offsets(shop.bootstrap, topic)
    return all(
        end == 0 or committed(shop.bootstrap, group, topic, partition) == end
        for partition, end in ends.items()
    )


def test_orders_time_out_while_inventory_is_away_and_nothing_is_left_held(shop, sign_in):
    alice = sign_in(shop.gateway, "alice", "wonderland")
    skus = sorted({line["sku"] for items in ORDERS for line in items})
    before = {sku: alice.stock(sku) for sku in skus}

    shop.stack.stop("inventory")
    try:
        placed = [alice.place_order(items) for items in ORDERS]
        assert [answer.status_code for answer in placed] == [202] * len(ORDERS)
        order_ids = [answer.json()["id"] for answer in placed]
        ended = [alice.wait_until_finished(order_id, timeout=30) for order_id in order_ids]
    finally:
        shop.start_again("inventory")

    assert {(order["status"], order["reason"]) for order in ended} == {("CANCELLED", "timed out")}

    # Inventory reads the backlog: each order.created reserves, then its
    # order.cancelled releases; payments has heard of the cancellation first.
    try:
        poll(
            lambda: consumed_everything(shop, "inventory", "orders"),
            90,
            interval=0.2,
            what="inventory read every event orders emitted while it was away",
        )
        reasons = poll(
            lambda: released_all(shop, order_ids),
            30,
            interval=0.5,
            what="an inventory.released for every order",
        )
    except AssertionError as failure:
        stories = {order_id: story(shop, order_id) for order_id in order_ids}
        raise AssertionError(f"{failure}; the orders' records: {stories}") from failure
    assert all(reason.startswith("order cancelled: timed out") for reason in reasons.values()), (
        reasons
    )
    poll(
        lambda: consumed_everything(shop, "payments", "inventory"),
        30,
        interval=0.2,
        what="payments read every event inventory emitted",
    )

    stock = f"/api/stock/{skus[0]}"
    poll(lambda: alice.get(stock).ok, 30, what="the gateway reaches inventory again")
    assert {sku: alice.stock(sku) for sku in skus} == before
    for order_id in order_ids:
        payments = alice.get(f"/api/payments?order_id={order_id}").json()
        assert {payment["status"] for payment in payments} <= {"VOIDED"}, payments
        order = alice.order(order_id)
        assert (order["status"], order["reason"]) == ("CANCELLED", "timed out")
