"""The order saga end to end: through the gateway over HTTP, through Kafka
only where a test must reach behind the services."""

from __future__ import annotations

import json

from support import poll
from support.kafka_probe import committed, find_record, send_raw
from support.shop import new_key


def test_an_order_is_confirmed_and_its_stock_is_sold(alice):
    before = alice.stock("TEA-SENCHA")
    placed = alice.place_order([{"sku": "TEA-SENCHA", "quantity": 2}])
    assert placed.status_code == 202
    assert placed.json()["status"] == "PENDING"
    assert placed.headers["Location"].endswith(f"/api/orders/{placed.json()['id']}")

    order = alice.wait_until_finished(placed.json()["id"])

    assert order["status"] == "CONFIRMED"
    assert order["total_cents"] == 2 * 890
    # Sold: the reservation is committed when inventory reads order.confirmed.
    sold = {**before, "available": before["available"] - 2}
    poll(lambda: alice.stock("TEA-SENCHA") == sold, 15, what="the reservation committed")


def test_an_order_over_the_stock_is_cancelled_with_a_reason_and_stock_unchanged(alice):
    before = alice.stock("TEAPOT-CAST-IRON")
    too_many = before["available"] + 1
    placed = alice.place_order([{"sku": "TEAPOT-CAST-IRON", "quantity": too_many}])

    order = alice.wait_until_finished(placed.json()["id"])

    assert order["status"] == "CANCELLED"
    assert "TEAPOT-CAST-IRON" in order["reason"]
    assert alice.stock("TEAPOT-CAST-IRON") == before


def test_a_declined_payment_cancels_the_order_and_releases_its_stock(alice):
    before = alice.stock("ESPRESSO-MACHINE")
    placed = alice.place_order([{"sku": "ESPRESSO-MACHINE", "quantity": 1}])

    order = alice.wait_until_finished(placed.json()["id"])

    assert order["status"] == "CANCELLED"
    assert "payment" in order["reason"].lower()
    # The release follows the decline as its own event: wait for it.
    poll(lambda: alice.stock("ESPRESSO-MACHINE") == before, 15, what="stock released")
    payments = alice.get(f"/api/payments?order_id={order['id']}").json()
    assert [p["status"] for p in payments] == ["DECLINED"]


def test_a_replayed_idempotency_key_creates_nothing_new(alice):
    key = new_key()
    items = [{"sku": "HONEY-ACACIA", "quantity": 1}]
    first = alice.place_order(items, key=key)
    again = alice.place_order(items, key=key)
    other_body = alice.place_order([{"sku": "HONEY-ACACIA", "quantity": 2}], key=key)

    assert first.status_code == 202
    assert again.status_code in (200, 202)
    assert again.json()["id"] == first.json()["id"]
    assert other_body.status_code == 409
    assert other_body.headers["Content-Type"].startswith("application/problem+json")
    alice.wait_until_finished(first.json()["id"])
    payments = alice.get(f"/api/payments?order_id={first.json()['id']}").json()
    assert len(payments) == 1


def test_an_event_delivered_twice_changes_nothing_twice(shop, alice):
    before = alice.stock("FILTER-PAPERS")
    placed = alice.place_order([{"sku": "FILTER-PAPERS", "quantity": 3}])
    order_id = placed.json()["id"]
    assert alice.wait_until_finished(order_id)["status"] == "CONFIRMED"
    stock = {**before, "available": before["available"] - 3}
    poll(lambda: alice.stock("FILTER-PAPERS") == stock, 15, what="the saga settled")
    created = find_record(
        shop.bootstrap,
        "orders",
        lambda r: r.key == order_id.encode() and json.loads(r.value)["type"] == "order.created",
    )

    partition, offset = send_raw(
        shop.bootstrap, "orders", created.key, created.value, list(created.headers)
    )
    poll(
        lambda: committed(shop.bootstrap, "inventory", "orders", partition) > offset,
        15,
        what="inventory consumed the duplicate",
    )

    assert alice.stock("FILTER-PAPERS") == stock
    assert len(alice.get(f"/api/payments?order_id={order_id}").json()) == 1


def test_a_malformed_event_goes_to_the_dead_letter_topic_and_consuming_goes_on(shop, alice):
    key = f"poison-{new_key()}".encode()
    partition, offset = send_raw(shop.bootstrap, "orders", key, b"{this is not json")

    dead = find_record(shop.bootstrap, "orders.dlq", lambda r: r.key == key)
    headers = {name: value.decode() for name, value in dead.headers}
    assert dead.value == b"{this is not json"
    assert headers["dlq-reason"]
    assert headers["dlq-topic"] == "orders"
    assert int(headers["dlq-offset"]) == offset
    poll(
        lambda: committed(shop.bootstrap, "inventory", "orders", partition) > offset,
        15,
        what="inventory moved past the poison record",
    )
    placed = alice.place_order([{"sku": "TEA-EARL-GREY", "quantity": 1}])
    assert alice.wait_until_finished(placed.json()["id"])["status"] == "CONFIRMED"


def test_an_event_that_breaks_its_schema_is_dead_lettered_with_the_reason(shop):
    key = new_key().encode()
    event = {
        "specversion": "1.0",
        "id": new_key(),
        "source": "/orders",
        "type": "order.created",
        "subject": key.decode(),
        "time": "2026-11-27T10:00:00Z",
        "datacontenttype": "application/json",
        "data": {
            "order_id": key.decode(),
            "user": "alice",
            "items": [],
            "total_cents": 0,
            "currency": "EUR",
        },
    }
    send_raw(shop.bootstrap, "orders", key, json.dumps(event).encode())

    dead = find_record(shop.bootstrap, "orders.dlq", lambda r: r.key == key)
    assert "items" in dict(dead.headers)["dlq-reason"].decode()


def test_another_user_cannot_see_an_order_or_its_payments(alice, bob):
    placed = alice.place_order([{"sku": "MUG-STONEWARE", "quantity": 1}])
    order_id = placed.json()["id"]
    alice.wait_until_finished(order_id)

    assert bob.get(f"/api/orders/{order_id}").status_code == 404
    assert bob.get(f"/api/payments?order_id={order_id}").status_code == 404
    assert bob.get(f"/api/notifications?order_id={order_id}").status_code == 404


def test_the_customer_is_notified_of_the_outcome(alice):
    placed = alice.place_order([{"sku": "GRINDER-HAND", "quantity": 1}])
    order_id = placed.json()["id"]
    alice.wait_until_finished(order_id)

    notes = poll(
        lambda: alice.get(f"/api/notifications?order_id={order_id}").json(),
        15,
        what="a notification for the order",
    )
    assert notes[0]["order_id"] == order_id
    assert notes[0]["type"] == "order.confirmed"
