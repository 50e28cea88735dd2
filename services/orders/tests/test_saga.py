import json

import pytest

from orders import placing, saga, store
from orders.validation import Line
from polyshop_common import outbox
from polyshop_common.db import transaction


@pytest.fixture
def order(conn, prices, contracts):
    request = placing.Request("alice", [Line("TEA-SENCHA", 1)])
    placed, _ = placing.place(conn, contracts, request, prices.lookup(["TEA-SENCHA"]))
    return placed


def on(conn, contracts, event_type, order_id, **data):
    handler = saga.handlers(contracts)[event_type]
    with transaction(conn):
        handler({"type": event_type, "data": {"order_id": order_id, **data}}, conn)


def last_event(conn):
    return json.loads(outbox.unsent(conn)[-1]["value"])


def test_payment_authorized_confirms_and_emits_order_confirmed(conn, order, contracts):
    on(conn, contracts, "payment.authorized", order["id"])
    assert store.get_order(conn, order["id"])["status"] == "CONFIRMED"
    event = last_event(conn)
    contracts.validate(event)
    assert event["type"] == "order.confirmed"
    assert event["data"]["total_cents"] == order["total_cents"]


@pytest.mark.parametrize(
    ("event_type", "reason"),
    [
        ("inventory.rejected", "out of stock: too few TEA-SENCHA"),
        ("payment.declined", "payment declined: too few TEA-SENCHA"),
    ],
)
def test_a_rejection_cancels_saying_which_step_failed_and_emits_order_cancelled(
    conn, order, contracts, event_type, reason
):
    on(conn, contracts, event_type, order["id"], reason="too few TEA-SENCHA")
    cancelled = store.get_order(conn, order["id"])
    assert (cancelled["status"], cancelled["reason"]) == ("CANCELLED", reason)
    event = last_event(conn)
    contracts.validate(event)
    assert event["type"] == "order.cancelled"


def test_a_late_event_for_a_finished_order_changes_nothing(conn, order, contracts):
    on(conn, contracts, "payment.declined", order["id"], reason="over the limit")
    on(conn, contracts, "payment.authorized", order["id"])
    assert store.get_order(conn, order["id"])["status"] == "CANCELLED"
    assert [json.loads(r["value"])["type"] for r in outbox.unsent(conn)] == [
        "order.created",
        "order.cancelled",
    ]


def test_an_event_for_an_unknown_order_changes_nothing(conn, contracts):
    on(conn, contracts, "payment.authorized", "0b6a7a52-3f0e-4c59-9d3a-3f1c2a7e5b10")
    assert outbox.unsent(conn) == []
