"""Lab 05's reference solution, run by the labs' end-to-end test."""

from __future__ import annotations

import requests

from polyshop_common.kafka_io.dead_letters import DeadLetters
from polyshop_dev.labs import ShopAddress
from polyshop_dev.labs.control import Control
from polyshop_dev.labs.shopping import confirmed_order
from polyshop_dev.labs.waiting import until

# Two short retries instead of 1, 10 and 60 s: the same path, in seconds.
RETRY_DELAYS = "1,1"
NODE_FOLLOWS = 10  # seconds: a Node.js piece reads the switches every five


def solve(control: Control) -> None:
    shop = control.shop
    control.restart("notifications", {"CONSUMER_RETRY_DELAYS": RETRY_DELAYS})
    customer = control.customer()

    control.turn_fault("pause-consumer", True, "notifications")
    until(lambda: "pause-consumer" in faults_of(shop, "notifications"), "paused", NODE_FOLLOWS)
    placed = confirmed_order(shop, customer)
    order_id = placed.json()["id"]

    control.turn_fault("errors", True, "orders")
    until(lambda: "errors" in faults_of(shop, "orders"), "orders to fail")
    control.turn_fault("pause-consumer", False)
    until(lambda: not faults_of(shop, "notifications"), "notifications to read", NODE_FOLLOWS)

    with DeadLetters.from_contracts(shop.kafka) as letters:
        [letter] = until(
            lambda: [
                each
                for each in letters.letters("orders")
                if each.key == order_id.encode() and each.group == "notifications"
            ],
            f"the order.confirmed of {order_id} dead-lettered",
            30,
        )
        control.turn_fault("errors", False, "orders")
        until(lambda: not faults_of(shop, "orders"), "orders to answer again")
        letters.redrive(letter.id)
    until(
        lambda: customer.get(
            f"{shop.gateway}/api/notifications", params={"order_id": order_id}, timeout=5
        ).json(),
        f"the customer told of order {order_id}",
    )


def faults_of(shop: ShopAddress, service: str) -> dict:
    return requests.get(f"{shop.services[service]}/readyz", timeout=5).json().get("faults", {})
