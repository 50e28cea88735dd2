import json
import uuid

import pytest

from payments import authorising, store
from polyshop_common import outbox
from polyshop_common.db import transaction

LIMIT = 50000


def reserved(total_cents, user="alice", order_id=None):
    return {
        "order_id": order_id or str(uuid.uuid4()),
        "user": user,
        "items": [{"sku": "TEA-SENCHA", "quantity": 1, "price_cents": total_cents}],
        "total_cents": total_cents,
        "currency": "EUR",
    }


def on_reserved(conn, contracts, data):
    handler = authorising.handlers(contracts, LIMIT)["inventory.reserved"]
    with transaction(conn):
        handler({"type": "inventory.reserved", "data": data}, conn)


def events(conn):
    return [json.loads(row["value"]) for row in outbox.unsent(conn)]


@pytest.mark.parametrize(
    ("total", "declined"), [(0, False), (LIMIT, False), (LIMIT + 1, True), (10**7, True)]
)
def test_declines_only_totals_over_the_limit(total, declined):
    assert (authorising.decide(total, LIMIT) is not None) is declined


def test_an_authorised_payment_is_stored_with_its_event(conn, contracts):
    data = reserved(2700)
    on_reserved(conn, contracts, data)
    [payment] = store.for_order(conn, data["order_id"])
    assert payment["status"] == "AUTHORIZED"
    [event] = events(conn)
    contracts.validate(event)
    assert event["type"] == "payment.authorized"
    assert event["data"]["payment_id"] == payment["id"]


def test_a_declined_payment_carries_its_reason(conn, contracts):
    data = reserved(LIMIT + 100)
    on_reserved(conn, contracts, data)
    [payment] = store.for_order(conn, data["order_id"])
    assert payment["status"] == "DECLINED"
    [event] = events(conn)
    contracts.validate(event)
    assert event["type"] == "payment.declined"
    assert "over the limit" in event["data"]["reason"]


def test_a_second_reservation_for_the_same_order_pays_nothing_more(conn, contracts):
    data = reserved(2700)
    on_reserved(conn, contracts, data)
    on_reserved(conn, contracts, data)
    assert len(store.for_order(conn, data["order_id"])) == 1
    assert len(events(conn)) == 1
