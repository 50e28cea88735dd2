import json

import pytest

from orders import placing, store
from orders.pricing import UnknownSkus, pick
from orders.validation import Line
from polyshop_common import outbox


def order_request(key="key-1", quantity=2, user="alice"):
    return placing.Request(user, [Line("TEA-EARL-GREY", quantity)], key)


@pytest.fixture
def products(prices):
    return prices.lookup(["TEA-EARL-GREY"])


def events(conn):
    return [json.loads(row["value"]) for row in outbox.unsent(conn)]


def test_placing_stores_a_pending_order_and_its_created_event_together(conn, products, contracts):
    order, created = placing.place(conn, contracts, order_request(), products)
    assert created
    assert store.get_order(conn, order["id"])["status"] == "PENDING"
    assert order["total_cents"] == 2 * products["TEA-EARL-GREY"]["price_cents"]
    [event] = events(conn)
    contracts.validate(event)
    assert (event["type"], event["subject"]) == ("order.created", order["id"])


def test_the_same_key_and_body_give_the_same_order_and_nothing_new(conn, products, contracts):
    first, _ = placing.place(conn, contracts, order_request(), products)
    again, created = placing.place(conn, contracts, order_request(), products)
    assert (again["id"], created) == (first["id"], False)
    assert placing.replay(conn, order_request())["id"] == first["id"]
    assert len(events(conn)) == 1


def test_the_same_key_with_another_body_is_a_conflict(conn, products, contracts):
    placing.place(conn, contracts, order_request(), products)
    with pytest.raises(placing.IdempotencyConflict):
        placing.place(conn, contracts, order_request(quantity=3), products)


def test_keys_belong_to_their_user(conn, products, contracts):
    first, _ = placing.place(conn, contracts, order_request(), products)
    other, created = placing.place(conn, contracts, order_request(user="bob"), products)
    assert created and other["id"] != first["id"]


def test_an_unknown_sku_is_named():
    with pytest.raises(UnknownSkus) as raised:
        pick([{"sku": "A"}], ["A", "NOPE"])
    assert raised.value.skus == ["NOPE"]


def test_one_order_has_one_currency():
    products = {
        "A": {"price_cents": 1, "currency": "EUR"},
        "B": {"price_cents": 1, "currency": "USD"},
    }
    with pytest.raises(placing.MixedCurrencies):
        placing.new_order(placing.Request("alice", [Line("A", 1), Line("B", 1)]), products)
