"""Lab 04's reference solution, run by the labs' end-to-end test."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests
import yaml

from polyshop_dev.labs import ShopAddress
from polyshop_dev.labs.control import Control
from polyshop_dev.labs.metrics import samples
from polyshop_dev.labs.waiting import until

AT_ONCE = 8  # enough failures for each gateway worker's breaker to open
PAYMENTS = "/api/payments?order_id=none"
ANSWERS = {
    "timeout_seconds": 5,
    "failures_to_open": 3,
    "cooldown_seconds": 10,
    "breaker_metric": "polyshop_gateway_breaker_state",
}


def solve(control: Control) -> None:
    shop = control.shop
    customer = control.customer()
    control.turn_fault("slow", True, "payments")
    until(lambda: "slow" in faults_of(shop.services["payments"]), "payments to be slow")
    with ThreadPoolExecutor(AT_ONCE) as pool:
        list(pool.map(lambda _: customer.get(shop.gateway + PAYMENTS, timeout=20), range(AT_ONCE)))
    control.turn_fault("slow", False, "payments")
    until(lambda: not faults_of(shop.services["payments"]), "payments to be fast again")
    # Each gateway worker has its own breaker: past its cool-down, the next
    # request it gets is let through and closes it. A kept-alive connection
    # stays with one worker, so each request here comes on a new one.
    until(lambda: answered(customer, shop) and not open_breakers(shop), "the breakers to close", 40)
    path = shop.answers_file("04")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(ANSWERS))


def answered(customer: requests.Session, shop: ShopAddress) -> bool:
    return customer.get(shop.gateway + PAYMENTS, headers={"Connection": "close"}, timeout=10).ok


def open_breakers(shop: ShopAddress) -> float:
    """Gateway workers whose breaker of a payments instance is not closed."""
    return sum(
        sample.value
        for sample in samples(shop.gateway_metrics, "polyshop_gateway_breaker_state")
        if sample.labels.get("upstream_instance", "").startswith("payments-")
        and sample.labels.get("state") != "closed"
    )


def faults_of(service_url: str) -> dict:
    return requests.get(f"{service_url}/readyz", timeout=5).json().get("faults", {})
