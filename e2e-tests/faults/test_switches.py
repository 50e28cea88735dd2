"""The fault switches (docs/faults.md), each on a running shop: turned on,
its documented symptom seen, turned off, the shop recovered, and nothing
lost: every order the shop accepted is final, and stock and payments add up.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
import requests

from support import poll
from support.faults import FaultShop, assert_totals_add_up, settle, stock
from support.kafka_probe import records
from support.load import SKUS, USERS, Load, Mix
from support.switches import metric, switched_on

pytestmark = pytest.mark.slow

# Every second order of a thread is one payments declines: both ends of the saga.
ORDERS = Mix(reads=("/api/orders/{order}",), order_every=2, declined_every=2, pace=0.1)
ONE = [{"sku": SKUS[0], "quantity": 1}]


def customer(shop: FaultShop):
    return shop.customers()[USERS[0][0]]


def place(buyer, count: int) -> list[str]:
    """`count` orders of one unit of SKUS[0], accepted; their ids."""
    return [buyer.place_order(ONE).json()["id"] for _ in range(count)]


def all_end(buyer, orders: list[str], status: str) -> list[dict]:
    ended = [buyer.wait_until_finished(order_id, timeout=30) for order_id in orders]
    assert {order["status"] for order in ended} == {status}, ended
    return ended


def answers(shop: FaultShop, path: str, status: int, timeout: float, what: str) -> None:
    """Until the gateway answers `path` with `status` (a customer's request, never cached)."""
    poll(lambda: customer(shop).get(path).status_code == status, timeout, interval=0.2, what=what)


def sold_once(shop: FaultShop, stock_before: dict, orders: list[str]) -> None:
    """The orders, one unit of SKUS[0] each, all finished: that stock sold once each."""
    shop.order_ids.update(dict.fromkeys(orders, USERS[0][0]))
    settle(shop)
    assert stock(shop) == {
        sku: {**was, "available": was["available"] - (len(orders) if sku == SKUS[0] else 0)}
        for sku, was in stock_before.items()
    }


def orders_flow_again(shop: FaultShop, stock_before: dict, load: Load, count: int = 8) -> None:
    """After the switch is off: more orders are accepted, and with every
    one placed in the test, stock and payments add up."""
    load.wait_for(count * 2, timeout=60)  # every second request is an order
    load.stop()
    placed = shop.remember(load)
    assert placed, "no order was accepted"
    assert_totals_add_up(shop, placed, stock_before)


def test_every_switch_is_off_when_the_shop_starts(shop):
    for piece in shop.pieces:
        url = f"http://127.0.0.1:{shop.pieces[piece].env['PORT']}/readyz"
        assert "faults" not in requests.get(url, timeout=5).json(), piece


def test_slow_catalog_runs_into_the_gateways_timeout(shop, stock_before):
    product = f"/api/products/{SKUS[0]}"
    with Load(shop.gateway, ORDERS, threads=2, max_seconds=120) as load:
        with switched_on(shop, "slow", "catalog"):
            began = time.monotonic()
            answer = customer(shop).session.get(shop.gateway + product, timeout=20)
            waited = time.monotonic() - began
            assert answer.status_code in (503, 504), answer.text  # 503 once a breaker opened
            assert answer.headers["Content-Type"] == "application/problem+json"
            assert waited >= 4.5 or answer.status_code == 503
        # The breakers' cool-down is 10 s.
        answers(shop, product, 200, 30, "catalog answers through the gateway again")
        orders_flow_again(shop, stock_before, load)


def test_errors_in_inventory_fail_its_reads_but_not_the_saga(shop, stock_before):
    stock_path = f"/api/stock/{SKUS[0]}"
    with Load(shop.gateway, ORDERS, threads=2, max_seconds=120) as load:
        with switched_on(shop, "errors", "inventory"):
            answer = customer(shop).get(stock_path)
            assert answer.status_code == 503
            assert "errors" in answer.json()["detail"]
            # Orders still flow: the saga reaches inventory through Kafka, not HTTP.
            load.wait_for(10, timeout=30)
        answers(shop, stock_path, 200, 30, "inventory answers through the gateway again")
        orders_flow_again(shop, stock_before, load)


def test_declining_payments_cancels_every_order_until_it_is_off(shop, stock_before):
    buyer = customer(shop)
    with switched_on(shop, "decline-payments", "payments"):
        during = place(buyer, 3)
        all_end(buyer, during, "CANCELLED")
        for order_id in during:
            payments = buyer.get(f"/api/payments?order_id={order_id}").json()
            assert [p["status"] for p in payments] == ["DECLINED"]
    after = place(buyer, 1)
    all_end(buyer, after, "CONFIRMED")
    shop.order_ids.update(dict.fromkeys(during, USERS[0][0]))
    sold_once(shop, stock_before, after)  # the cancelled ones gave their stock back


def test_stopped_heartbeats_get_catalog_evicted_then_registered_again(shop, stock_before):
    catalog, product = shop.instance_id("catalog"), f"/api/products/{SKUS[0]}"
    with Load(shop.gateway, ORDERS, threads=2, max_seconds=120) as load:
        with switched_on(shop, "stop-heartbeats", "catalog"):
            poll(
                lambda: catalog not in shop.registered(),
                30,  # a lease of 6 s, the registry's eviction pass
                interval=0.2,
                what="the registry evicts catalog",
            )
            answers(shop, product, 503, 10, "the gateway has no catalog to send to")
        poll(lambda: catalog in shop.registered(), 15, what="catalog registered again")
        answers(shop, product, 200, 15, "catalog answers through the gateway again")
        orders_flow_again(shop, stock_before, load)


# Switches that hold the saga up: orders stay PENDING while a metric shows
# what waits, and finish once the switch is off.
HOLDS = {
    "pause-consumer": (
        "inventory",
        ("polyshop_consumer_lag_records", {"messaging_destination_name": "orders"}, 1),
    ),
    "stop-outbox-relay": ("orders", ("polyshop_outbox_backlog_rows", {}, 4)),
}


@pytest.mark.parametrize("switch", HOLDS)
def test_a_held_saga_leaves_orders_pending_then_finishes_them(shop, stock_before, switch):
    service, (name, labels, least) = HOLDS[switch]
    buyer = customer(shop)
    with switched_on(shop, switch, service) as held:
        during = place(buyer, 4)
        poll(
            lambda: sum(metric(shop, piece, name, **labels) for piece in held) >= least,
            20,
            interval=0.3,
            what=f"{service} shows what waits in {name}",
        )
        assert {buyer.order(order_id)["status"] for order_id in during} == {"PENDING"}
    all_end(buyer, during, "CONFIRMED")
    sold_once(shop, stock_before, during)


def test_duplicated_events_are_each_handled_once(shop, stock_before):
    buyer = customer(shop)
    with switched_on(shop, "duplicate-events", "orders") as doubled:
        all_end(buyer, during := place(buyer, 3), "CONFIRMED")
        # An order is CONFIRMED before its relay publishes order.confirmed.
        poll(
            lambda: (
                sum(metric(shop, piece, "polyshop_outbox_backlog_rows") for piece in doubled) == 0
            ),
            15,
            interval=0.2,
            what="orders' outbox published every event while the switch is on",
        )
    copies = Counter(
        json.loads(record.value)["id"]
        for record in records(shop.bootstrap, "orders", lambda r: r.key.decode() in during)
    )
    seen = Counter(copies.values())
    assert seen == {2: len(copies)}, copies  # every event of these orders went out twice
    # Reserved once per order, whatever came twice: the consumers' processed-events table.
    sold_once(shop, stock_before, during)


def test_a_malformed_price_is_refused_by_orders(shop, stock_before):
    buyer = customer(shop)
    with switched_on(shop, "malformed-price", "catalog"):
        product = buyer.get(f"/api/products/{SKUS[0]}").json()
        assert not isinstance(product["price_cents"], int)
        refused = buyer.place_order(ONE)
        assert refused.status_code == 502, refused.text
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert "price_cents" in refused.json()["detail"]
    accepted = buyer.place_order(ONE)
    assert accepted.status_code == 202, accepted.text
    order_id = accepted.json()["id"]
    assert buyer.wait_until_finished(order_id, timeout=30)["status"] == "CONFIRMED"
    sold_once(shop, stock_before, [order_id])
