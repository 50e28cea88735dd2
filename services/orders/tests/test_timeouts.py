import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from orders import placing, saga, store, timeouts
from orders.config import SERVICE, Settings
from orders.validation import Line
from polyshop_common import db, outbox
from polyshop_common.settings import ConfigError
from polyshop_common.testing import DEVELOPMENT_ENV

TIMEOUT = 30.0


@pytest.fixture
def place(conn, prices, contracts):
    def place_one():
        request = placing.Request("alice", [Line("TEA-SENCHA", 1)])
        order, _ = placing.place(conn, contracts, request, prices.lookup(["TEA-SENCHA"]))
        return order

    return place_one


def later(seconds):
    return datetime.now(UTC) + timedelta(seconds=seconds)


def event_types(conn):
    return [json.loads(row["value"])["type"] for row in outbox.unsent(conn, limit=1000)]


def confirm(conn, contracts, order_id):
    """What payments sends for the order: its amount, its currency."""
    with db.transaction(conn):
        order = store.get_order(conn, order_id)
        data = {
            "order_id": order_id,
            "payment_id": "pay-1",
            "amount_cents": order["total_cents"],
            "currency": order["currency"],
        }
        saga.confirm(contracts, {"type": "payment.authorized", "data": data}, conn)


def test_an_order_pending_past_the_timeout_is_cancelled_with_its_event(conn, place, contracts):
    order = place()
    assert timeouts.cancel_overdue(conn, contracts, TIMEOUT, later(TIMEOUT + 1)) == [order["id"]]
    cancelled = store.get_order(conn, order["id"])
    assert (cancelled["status"], cancelled["reason"]) == ("CANCELLED", "timed out")
    event = json.loads(outbox.unsent(conn)[-1]["value"])
    contracts.validate(event)
    assert (event["type"], event["data"]["reason"]) == ("order.cancelled", "timed out")


def test_an_order_within_the_timeout_stays_pending(conn, place, contracts):
    order = place()
    assert timeouts.cancel_overdue(conn, contracts, TIMEOUT, later(TIMEOUT - 5)) == []
    assert store.get_order(conn, order["id"])["status"] == "PENDING"
    assert event_types(conn) == ["order.created"]


def test_a_finished_order_is_not_timed_out(conn, place, contracts):
    order = place()
    confirm(conn, contracts, order["id"])
    assert timeouts.cancel_overdue(conn, contracts, TIMEOUT, later(TIMEOUT + 1)) == []
    assert store.get_order(conn, order["id"])["status"] == "CONFIRMED"
    assert event_types(conn) == ["order.created", "order.confirmed"]


def test_a_payment_authorised_after_the_timeout_changes_nothing(conn, place, contracts):
    order = place()
    timeouts.cancel_overdue(conn, contracts, TIMEOUT, later(TIMEOUT + 1))
    confirm(conn, contracts, order["id"])
    assert store.get_order(conn, order["id"])["status"] == "CANCELLED"
    assert event_types(conn) == ["order.created", "order.cancelled"]


def test_a_timeout_racing_payments_finishes_each_order_once(app, conn, place, settings, contracts):
    orders = [place()["id"] for _ in range(40)]
    payments = db.connect(settings.database(SERVICE))
    start = threading.Barrier(2)

    def pay_all():
        start.wait()
        for order_id in orders:
            confirm(payments, contracts, order_id)

    paying = threading.Thread(target=pay_all)
    paying.start()
    start.wait()
    timeouts.cancel_overdue(conn, contracts, TIMEOUT, later(TIMEOUT + 1))
    paying.join()
    payments.close()

    finals = [t for t in event_types(conn) if t != "order.created"]
    assert len(finals) == len(orders)
    statuses = [store.get_order(conn, order_id)["status"] for order_id in orders]
    assert finals.count("order.confirmed") == statuses.count("CONFIRMED")
    assert finals.count("order.cancelled") == statuses.count("CANCELLED")


def test_the_sweeper_cancels_on_its_own_and_wakes_the_relay(
    conn, place, settings, wait_until, contracts
):
    woken = threading.Event()
    sweeper = timeouts.TimeoutSweeper(
        settings.database(SERVICE), contracts, 0.05, woken.set, interval_seconds=0.02
    )
    order = place()
    sweeper.start()
    try:
        assert sweeper.running
        wait_until(lambda: store.get_order(conn, order["id"])["status"] == "CANCELLED")
        assert woken.wait(5)
    finally:
        sweeper.stop()
    assert not sweeper.running


def test_the_sweeper_keeps_time_by_its_clock(conn, place, settings, contracts):
    now = datetime.now(UTC)
    sweeper = timeouts.TimeoutSweeper(
        settings.database(SERVICE), contracts, TIMEOUT, lambda: None, clock=lambda: now
    )
    order = place()
    assert sweeper.sweep(conn) == []
    now += timedelta(seconds=TIMEOUT + 1)
    assert sweeper.sweep(conn) == [order["id"]]


def test_the_timeout_comes_from_the_environment():
    assert Settings.from_env(DEVELOPMENT_ENV).saga_timeout_seconds == 30
    assert (
        Settings.from_env(
            DEVELOPMENT_ENV | {"ORDERS_SAGA_TIMEOUT_SECONDS": "3"}
        ).saga_timeout_seconds
        == 3
    )


@pytest.mark.parametrize("raw", ["soon", "0", "-1", "inf"])
def test_a_bad_timeout_stops_start_up_naming_the_variable(raw):
    with pytest.raises(ConfigError, match="ORDERS_SAGA_TIMEOUT_SECONDS"):
        Settings.from_env(DEVELOPMENT_ENV | {"ORDERS_SAGA_TIMEOUT_SECONDS": raw})
