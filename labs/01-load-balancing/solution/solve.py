"""Lab 01's reference solution, run by the labs' end-to-end test."""

from __future__ import annotations

import time

from polyshop_dev.labs.control import Control

REQUESTS = 45  # about 15 for each of three instances
PACE = 0.06  # seconds: below the route's rate limit of 20 a second (a burst of 40)


def solve(control: Control) -> None:
    for _ in range(2):
        control.start_instance("inventory")
    control.wait_registered("inventory", 3)
    customer = control.customer()
    for _ in range(REQUESTS):
        customer.get(f"{control.shop.gateway}/api/stock/TEA-SENCHA", timeout=5).raise_for_status()
        time.sleep(PACE)
