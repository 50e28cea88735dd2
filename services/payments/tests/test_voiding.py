import json
import uuid

import pytest

from payments import authorising, store, voiding
from polyshop_common import outbox
from polyshop_common.db import transaction

LIMIT = 50000


@pytest.fixture
def order_id():
    return str(uuid.uuid4())


def on(conn, contracts, event_type, data):
    handlers = authorising.handlers(contracts, LIMIT) | voiding.handlers(contracts)
    with transaction(conn):
        handlers[event_type]({"type": event_type, "data": data}, conn)


def reserved(conn, contracts, order_id, total_cents=2700):
    on(
        conn,
        contracts,
        "inventory.reserved",
        {"order_id": order_id, "user": "alice", "total_cents": total_cents, "currency": "EUR"},
    )


def cancelled(conn, contracts, order_id, reason="timed out"):
    on(
        conn,
        contracts,
        "order.cancelled",
        {"order_id": order_id, "user": "alice", "reason": reason},
    )


def events(conn):
    return [json.loads(row["value"]) for row in outbox.unsent(conn)]


def test_an_authorised_payment_of_a_cancelled_order_is_voided_and_said_so(
    conn, order_id, contracts
):
    reserved(conn, contracts, order_id)
    cancelled(conn, contracts, order_id)
    [payment] = store.for_order(conn, order_id)
    assert (payment["status"], payment["reason"]) == ("VOIDED", "order cancelled: timed out")
    authorized, voided = events(conn)
    contracts.validate(voided)
    assert voided["type"] == "payment.voided"
    assert voided["data"] == authorized["data"] | {"reason": "order cancelled: timed out"}


def test_a_declined_payment_is_not_voided(conn, order_id, contracts):
    reserved(conn, contracts, order_id, total_cents=LIMIT + 1)
    cancelled(conn, contracts, order_id, reason="payment declined: over the limit")
    assert [p["status"] for p in store.for_order(conn, order_id)] == ["DECLINED"]
    assert [e["type"] for e in events(conn)] == ["payment.declined"]


def test_a_reservation_after_the_cancellation_authorises_nothing(conn, order_id, contracts):
    cancelled(conn, contracts, order_id)
    reserved(conn, contracts, order_id)
    assert store.for_order(conn, order_id) == []
    assert events(conn) == []


def test_a_cancellation_told_twice_voids_once(conn, order_id, contracts):
    reserved(conn, contracts, order_id)
    cancelled(conn, contracts, order_id)
    cancelled(conn, contracts, order_id)
    assert [e["type"] for e in events(conn)] == ["payment.authorized", "payment.voided"]


def test_other_orders_are_left_alone(conn, order_id, contracts):
    other = str(uuid.uuid4())
    reserved(conn, contracts, order_id)
    cancelled(conn, contracts, other)
    reserved(conn, contracts, other)
    assert [p["status"] for p in store.for_order(conn, order_id)] == ["AUTHORIZED"]
    assert store.for_order(conn, other) == []


def test_a_long_cancellation_reason_still_fits_the_contract(conn, order_id, contracts):
    reserved(conn, contracts, order_id)
    cancelled(conn, contracts, order_id, reason="x" * 500)
    voided = events(conn)[-1]
    contracts.validate(voided)
    assert voided["data"]["reason"].endswith("…")
