"""Lab 06: a load ran while an inventory instance went away, no request
failed, and every order it placed finished."""

from __future__ import annotations

import json
import time

from polyshop_dev.labs import Grade, ShopAddress
from polyshop_dev.labs.shopping import signed_in

LEAST_SECONDS = 20
FINAL = {"CONFIRMED", "CANCELLED"}
PACE = 0.07  # seconds between two reads: below the route's rate limit (20 a second)


def grade(shop: ShopAddress, check: Grade) -> None:
    path = shop.answers_file("06").with_name("lab-06-load.json")
    if not check.that(
        path.exists(),
        f"a load's report is in {path}",
        f"run the load with `--report {path}` (step 2)",
    ):
        return
    report = json.loads(path.read_text())
    seconds = report["ended"] - report["started"]
    check.that(
        seconds >= LEAST_SECONDS and report["requests"] >= 5 * LEAST_SECONDS,
        f"the load ran {LEAST_SECONDS} s or more ({seconds:.0f} s, {report['requests']} requests)",
        "run it with `--seconds 40` (step 2)",
    )
    counts = [len(sample["inventory"]) for sample in report["instances"]]
    most = max(counts, default=0)
    check.that(
        most >= 3,
        f"three inventory instances served during the load (at most {most} were listed)",
        "start two more instances before the load (step 1)",
    )
    check.that(
        any(later < most for later in counts[counts.index(most) :]) if counts else False,
        "an inventory instance went away while the load ran",
        "stop one of your instances while the load runs (step 3)",
    )
    failures = report["failures"]
    check.that(
        not failures,
        f"no request failed ({len(failures)} did"
        + (
            f", the first: {failures[0]['method']} {failures[0]['path']} → "
            f"{failures[0]['outcome']})"
            if failures
            else ")"
        ),
        "look at which requests failed and when: was it a POST without an Idempotency-Key?",
    )
    unfinished = not_final(shop, report["orders"])
    check.that(
        report["orders"] and not unfinished,
        f"every order the load placed finished ({len(report['orders'])} placed, "
        f"{len(unfinished)} not final)",
        "wait a few seconds for the sagas, then check again",
    )


def not_final(shop: ShopAddress, orders: list[str]) -> list[str]:
    with signed_in(shop) as session:
        unfinished = []
        for order_id in orders:
            answer = session.get(f"{shop.gateway}/api/orders/{order_id}", timeout=5)
            if answer.json().get("status") not in FINAL:
                unfinished.append(order_id)
            time.sleep(PACE)
        return unfinished
