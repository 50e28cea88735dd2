"""What the graders and reference solutions do as a customer of the shop
would, and how they read a topic: written once for every lab."""

from __future__ import annotations

import time

import requests
from kafka import KafkaConsumer, TopicPartition

from polyshop_dev.labs.waiting import until
from polyshop_dev.labs.where import ShopAddress

FINAL = {"CONFIRMED", "CANCELLED"}
DECLINE_OVER_CENTS = 50000  # payments' default (docs/saga.md)


def signed_in(
    shop: ShopAddress, username: str = "alice", password: str = "wonderland"
) -> requests.Session:
    """A session with a demo user's bearer token (close it, or use `with`)."""
    session = requests.Session()
    session.trust_env = False  # no proxy between this machine and its own ports
    answer = session.post(
        f"{shop.gateway}/auth/token",
        json={"username": username, "password": password},
        timeout=5,
    )
    answer.raise_for_status()
    session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return session


def confirmed_order(shop: ShopAddress, customer: requests.Session) -> requests.Response:
    """One unit of the product with the most stock that payments does not
    decline (an earlier lab on the same shop may have sold another out),
    placed and waited for until CONFIRMED; the placing's answer."""
    limit = int(shop.env.get("PAYMENTS_DECLINE_OVER_CENTS", DECLINE_OVER_CENTS))
    products = customer.get(f"{shop.gateway}/api/products", timeout=5).json()
    sku = max(
        (product["sku"] for product in products if product["price_cents"] <= limit),
        key=lambda sku: customer.get(f"{shop.gateway}/api/stock/{sku}", timeout=5).json()[
            "available"
        ],
    )
    order = {"items": [{"sku": sku, "quantity": 1}]}
    placed = customer.post(f"{shop.gateway}/api/orders", json=order, timeout=10)
    placed.raise_for_status()
    url = f"{shop.gateway}/api/orders/{placed.json()['id']}"
    status = until(lambda: final_status(customer, url), f"{url} finished")
    assert status == "CONFIRMED", f"{url} is {status}"
    return placed


def final_status(customer: requests.Session, url: str) -> str | None:
    """The order's status once final, else None (also while rate-limited)."""
    status = customer.get(url, timeout=5).json().get("status")
    return status if status in FINAL else None


def records(bootstrap: str, topic: str, timeout: float = 20) -> list:
    """Every record of `topic`, from the beginning to its end as it is now,
    read without a consumer group."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        consumer.seek_to_beginning()
        found = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading the topic {topic} took over {timeout} s")
            for partition, batch in consumer.poll(timeout_ms=200).items():
                found.extend(record for record in batch if record.offset < ends[partition])
        return found
    finally:
        consumer.close()
