"""Notifications asks orders for each order it tells a customer about. With
every orders instance stopped, the order.confirmed records it cannot handle
go round the retry topics while the partitions they came from move on, and
each customer is told once orders is back. Stopped past every retry, a
record lands in orders.dlq with every attempt's reason; redriven after the
fix, it tells the customer, and redriven again, it changes nothing."""

from __future__ import annotations

import json
import signal
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing

import pytest
from kafka.consumer.fetcher import ConsumerRecord

from polyshop_common.kafka_io.dead_letters import AlreadyRedriven, DeadLetter, DeadLetters
from support import poll
from support.faults import RETRY_DELAYS, FaultShop, settle
from support.kafka_probe import committed, end_offsets, records
from support.load import USERS
from support.shop import Customer, new_key

NOTIFIER = "notifications"
# Every instance: while one of them answers, nothing fails.
DEPENDENCY = ("orders", "orders-2")
# The other groups that read the topic orders.
OTHER_READERS = ("inventory", "payments", "storefront")
ATTEMPTS = len(RETRY_DELAYS) + 1
UNAVAILABLE = "handler failed: ServiceUnavailable: orders unavailable"
# Not one the load buys: the other tests here may have sold those out.
SKU = "COFFEE-BEANS"
# Orders enough that two share one of the three partitions of orders.
MORE_THAN_PARTITIONS = 4


@pytest.fixture
def customer(shop: FaultShop) -> Iterator[Customer]:
    settle(shop)  # earlier orders finished: nothing of theirs is caught in the outage
    with Customer(shop.gateway, *USERS[0]) as customer:
        yield customer


@pytest.mark.slow
def test_records_go_round_the_retry_topics_and_customers_are_told_when_orders_returns(
    shop, customer
):
    try:
        confirmed = unread_confirmations_and_orders_stopped(shop, customer, MORE_THAN_PARTITIONS)
        retried = for_each(
            confirmed,
            lambda: copies(shop, "orders.retry.1", confirmed),
            15,
            what="each order.confirmed waits in orders.retry.1",
        )
        ends = end_offsets(shop.bootstrap, "orders")
        for group in (NOTIFIER, *OTHER_READERS):
            poll(lambda g=group: read_to_end(shop, g, ends), 15, what=f"{group} reads orders on")
        waiting = {order_id: told(customer, order_id) for order_id in confirmed}
        # Back before the last attempt, due some sum(RETRY_DELAYS) seconds after the first.
        for name in DEPENDENCY:
            shop.start(name)
        notes = {
            order_id: poll(lambda o=order_id: told(customer, o), 20, what=f"{order_id} told")
            for order_id in confirmed
        }
        sent = for_each(
            confirmed, lambda: sent_events(shop, confirmed), 15, what="notification.sent of each"
        )
    finally:
        restart_stopped(shop)

    assert waiting == {order_id: [] for order_id in confirmed}
    for order_id, record in confirmed.items():
        headers = text_headers(retried[order_id])
        assert headers["retry-group"] == NOTIFIER
        assert headers["attempt"] == "2"
        assert headers["attempt-1-reason"].startswith(UNAVAILABLE)
        origin = (headers["original-topic"], headers["original-partition"])
        assert (*origin, headers["original-offset"]) == coordinates(record)
        assert [note["type"] for note in notes[order_id]] == ["order.confirmed"]
    assert sent == dict.fromkeys(confirmed, 1)
    with DeadLetters.from_contracts(shop.bootstrap) as letters:
        assert dead_letters(letters, confirmed) == {}


@pytest.mark.slow
def test_a_record_past_every_retry_is_dead_lettered_and_a_redrive_tells_the_customer_once(
    shop, customer
):
    letters = DeadLetters.from_contracts(shop.bootstrap)
    try:
        confirmed = unread_confirmations_and_orders_stopped(shop, customer, count=2)
        dead = for_each(
            confirmed,
            lambda: dead_letters(letters, confirmed),
            sum(RETRY_DELAYS) + 20,
            what="each order.confirmed dead-lettered after its last retry",
        )
        waiting = {order_id: told(customer, order_id) for order_id in confirmed}
        for name in DEPENDENCY:
            shop.start(name)

        redriven = {order_id: letters.redrive(letter.id) for order_id, letter in dead.items()}
        notes = {
            order_id: poll(lambda o=order_id: told(customer, o), 15, what=f"{order_id} told")
            for order_id in confirmed
        }
        for_each(confirmed, lambda: sent_events(shop, confirmed), 15, what="notification.sent")
        for letter in dead.values():
            with pytest.raises(AlreadyRedriven):
                letters.redrive(letter.id)
        again = [letters.redrive(letter.id, again=True) for letter in dead.values()]
        for copy in again:
            poll(
                lambda c=copy: committed(shop.bootstrap, NOTIFIER, c.topic, c.partition) > c.offset,
                15,
                what=f"{NOTIFIER} read the second redrive {copy.target}",
            )
    finally:
        letters.close()
        restart_stopped(shop)

    assert waiting == {order_id: [] for order_id in confirmed}
    for order_id, record in confirmed.items():
        letter = dead[order_id]
        headers = text_headers(letter)
        assert letter.reason.startswith(f"gave up after {ATTEMPTS} attempts: {UNAVAILABLE}")
        for attempt in range(1, ATTEMPTS + 1):
            assert headers[f"attempt-{attempt}-reason"].startswith(UNAVAILABLE)
        assert letter.group == NOTIFIER
        origin = (headers["dlq-topic"], headers["dlq-partition"])
        assert (*origin, headers["dlq-offset"]) == coordinates(record)
        assert (letter.key, letter.value) == (record.key, record.value)
        assert redriven[order_id].topic == "orders"
        assert [note["type"] for note in told(customer, order_id)] == ["order.confirmed"]
        assert notes[order_id] == told(customer, order_id)
        assert enqueued(shop, order_id) == 1
    assert sent_events(shop, confirmed) == dict.fromkeys(confirmed, 1)


def unread_confirmations_and_orders_stopped(
    shop: FaultShop, customer: Customer, count: int
) -> dict[str, ConsumerRecord]:
    """Orders confirmed while notifications is stopped, then every orders
    instance stopped and notifications started: it reads, on the topic
    orders, order.confirmed records it cannot handle. Returns them by order id.
    """
    shop.stop(NOTIFIER, sig=signal.SIGTERM)
    order_ids = []
    for _ in range(count):
        answer = customer.place_order([{"sku": SKU, "quantity": 1}], new_key())
        answer.raise_for_status()
        order_id = answer.json()["id"]
        shop.order_ids[order_id] = customer.username
        order_ids.append(order_id)
        # One after another: an order's events follow the confirmation of the
        # one before, so a partition holding two of them has records to read
        # after one that fails.
        assert customer.wait_until_finished(order_id)["status"] == "CONFIRMED"
    # Published before orders stops, or orders would publish it once it is back.
    confirmed = for_each(
        order_ids, lambda: confirmations(shop, order_ids), 15, what="order.confirmed published"
    )
    for name in DEPENDENCY:
        shop.stop(name, sig=signal.SIGTERM)
    shop.start(NOTIFIER)
    return confirmed


def for_each(order_ids, read: Callable[[], dict], timeout: float, what: str) -> dict:
    """Polls `read` until it gives something for each order; returns that."""
    return poll(lambda: (found := read()).keys() == set(order_ids) and found, timeout, what=what)


def restart_stopped(shop: FaultShop) -> None:
    for name in (*DEPENDENCY, NOTIFIER):
        if name not in shop.stack.running:
            shop.start(name)


# What the broker, notifications and its database kept


def confirmations(shop: FaultShop, order_ids) -> dict[str, ConsumerRecord]:
    found = records(shop.bootstrap, "orders", of_orders(order_ids, "order.confirmed"))
    return {record.key.decode(): record for record in found}


def copies(shop: FaultShop, topic: str, order_ids) -> dict[str, ConsumerRecord]:
    """Notifications' retry copies in `topic`, by order id."""
    found = records(shop.bootstrap, topic, of_orders(order_ids, "order.confirmed"))
    return {
        record.key.decode(): record
        for record in found
        if text_headers(record).get("retry-group") == NOTIFIER
    }


def dead_letters(letters: DeadLetters, order_ids) -> dict[str, DeadLetter]:
    keys = {order_id.encode() for order_id in order_ids}
    return {
        letter.key.decode(): letter
        for letter in letters.letters("orders")
        if letter.key in keys and letter.group == NOTIFIER
    }


def sent_events(shop: FaultShop, order_ids) -> Counter:
    """How many notification.sent of each order are on the topic notifications."""
    found = records(shop.bootstrap, "notifications", of_orders(order_ids, "notification.sent"))
    return Counter(record.key.decode() for record in found)


def told(customer: Customer, order_id: str) -> list[dict]:
    answer = customer.get(f"/api/notifications?order_id={order_id}")
    answer.raise_for_status()
    return answer.json()


def enqueued(shop: FaultShop, order_id: str) -> int:
    """The notification.sent rows notifications ever put in its outbox for an order."""
    path = shop.folder / "data" / f"{NOTIFIER}.db"
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        query = "SELECT count(*) FROM outbox WHERE topic = 'notifications' AND key = ?"
        return db.execute(query, (order_id,)).fetchone()[0]


def read_to_end(shop: FaultShop, group: str, ends: dict[int, int]) -> bool:
    return all(
        committed(shop.bootstrap, group, "orders", partition) == end
        for partition, end in ends.items()
        if end > 0
    )


def of_orders(order_ids, event_type: str) -> Callable[[ConsumerRecord], bool]:
    """Matches the records of these orders (by key) of one event type."""
    keys = {order_id.encode() for order_id in order_ids}
    return lambda record: record.key in keys and json.loads(record.value)["type"] == event_type


def text_headers(record: ConsumerRecord | DeadLetter) -> dict[str, str]:
    return {name: value.decode() for name, value in record.headers}


def coordinates(record: ConsumerRecord) -> tuple[str, str, str]:
    return (record.topic, str(record.partition), str(record.offset))
