"""Lab 06's reference solution, run by the labs' end-to-end test."""

from __future__ import annotations

import json
import threading
import time

from polyshop_dev.labs.control import Control
from polyshop_dev.labs.load import run
from polyshop_dev.labs.waiting import until

SECONDS = 22
FINAL = {"CONFIRMED", "CANCELLED"}
PACE = 0.07  # seconds between two reads: below the route's rate limit (20 a second)


def solve(control: Control) -> None:
    shop = control.shop
    started = [control.start_instance("inventory") for _ in range(2)]
    control.wait_registered("inventory", 3)
    report = shop.answers_file("06").with_name("lab-06-load.json")
    load = threading.Thread(target=run, args=(shop, SECONDS, report))
    load.start()
    time.sleep(SECONDS / 3)  # a window with three instances serving, then one goes
    control.stop_instance(started[0])
    load.join(SECONDS + 30)
    orders = json.loads(until(report.read_text, "the load's report"))["orders"]
    customer = control.customer()
    for order_id in orders:  # the sagas still running when the load ended
        until(
            lambda order_id=order_id: (
                customer.get(f"{shop.gateway}/api/orders/{order_id}").json().get("status") in FINAL
            ),
            f"order {order_id} finished",
            60,
        )
        time.sleep(PACE)
