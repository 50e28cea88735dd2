import json
import logging

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


def paid(order, **changes):
    """A payment.authorized's data as payments sends it for `order`, but for `changes`."""
    data = {"payment_id": "pay-7f3c", "user": order["user"]}
    data |= {"amount_cents": order["total_cents"], "currency": order["currency"]}
    return data | changes


def security_events(caplog):
    return [r for r in caplog.records if hasattr(r, "security_event")]


def test_payment_authorized_confirms_and_emits_order_confirmed(conn, order, contracts):
    on(conn, contracts, "payment.authorized", order["id"], **paid(order))
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
    on(conn, contracts, "payment.authorized", order["id"], **paid(order))
    assert store.get_order(conn, order["id"])["status"] == "CANCELLED"
    assert [json.loads(r["value"])["type"] for r in outbox.unsent(conn)] == [
        "order.created",
        "order.cancelled",
    ]


def test_an_event_for_an_unknown_order_changes_nothing(conn, contracts):
    payment = {"payment_id": "pay-1", "user": "alice", "amount_cents": 1, "currency": "EUR"}
    on(conn, contracts, "payment.authorized", "0b6a7a52-3f0e-4c59-9d3a-3f1c2a7e5b10", **payment)
    assert outbox.unsent(conn) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_cents": 1},
        {"amount_cents": 1_000_000},
        {"currency": "USD"},
        {"amount_cents": 1, "currency": "USD"},
    ],
    ids=["too little", "too much", "another currency", "both"],
)
def test_a_payment_that_does_not_match_the_order_cancels_it(conn, order, contracts, changes):
    on(conn, contracts, "payment.authorized", order["id"], **paid(order, **changes))

    cancelled = store.get_order(conn, order["id"])
    assert (cancelled["status"], cancelled["reason"]) == ("CANCELLED", saga.MISMATCH)
    event = last_event(conn)
    contracts.validate(event)
    assert (event["type"], event["data"]["reason"]) == ("order.cancelled", saga.MISMATCH)


def test_a_mismatch_is_logged_as_a_security_event_without_personal_data(
    conn, order, contracts, caplog
):
    payment = paid(order, amount_cents=1, currency="USD")
    on(conn, contracts, "payment.authorized", order["id"], **payment)

    [record] = security_events(caplog)
    assert record.levelno >= logging.WARNING
    assert record.security_event == "payment_mismatch"
    expected = {
        "order_id": order["id"],
        "payment_id": payment["payment_id"],
        "expected_amount_cents": order["total_cents"],
        "expected_currency": order["currency"],
        "received_amount_cents": 1,
        "received_currency": "USD",
    }
    assert {name: getattr(record, name, None) for name in expected} == expected
    assert "alice" not in json.dumps(vars(record), default=str)


def test_a_mismatch_for_a_confirmed_order_changes_nothing_but_is_logged(
    conn, order, contracts, caplog
):
    on(conn, contracts, "payment.authorized", order["id"], **paid(order))
    on(conn, contracts, "payment.authorized", order["id"], **paid(order, amount_cents=1))

    assert store.get_order(conn, order["id"])["status"] == "CONFIRMED"
    assert [json.loads(r["value"])["type"] for r in outbox.unsent(conn)] == [
        "order.created",
        "order.confirmed",
    ]
    [record] = security_events(caplog)
    assert record.order_status == "CONFIRMED"
