"""Lab 04: the gateway timed payments out and opened its breaker, the shop
recovered, and the learner found the settings and the metric."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import requests
import yaml

from gateway.config import Config
from gateway.routes import load_routes
from polyshop_dev.labs import Grade, ShopAddress
from polyshop_dev.labs.metrics import samples
from polyshop_dev.labs.shopping import signed_in
from polyshop_dev.paths import ROOT

ROUTES = ROOT / "gateway" / "src" / "gateway" / "routes.yaml"
PAYMENTS = "/api/payments?order_id=none"


def grade(shop: ShopAddress, check: Grade) -> None:
    timed_out = [
        line
        for line in shop.log_lines("gateway")
        if line.get("route_service") == "payments" and line.get("status") == 504
    ]
    check.that(
        timed_out,
        f"the gateway timed out waiting for payments ({len(timed_out)} answers 504 in its log)",
        "turn `slow` on for payments and send requests to /api/payments (steps 3 and 4)",
    )
    opened = ejections(shop)
    check.that(
        opened >= 1,
        f"a breaker of payments opened ({opened:.0f} times, polyshop_gateway_ejections_total)",
        "send several requests at once while payments is slow (step 4)",
    )
    check.that(
        not switched_on(shop),
        "the `slow` switch is off again for payments",
        "`make fault NAME=slow SERVICE=payments ON=0` (step 6)",
    )
    status = answer_status(shop)
    check.that(
        status == 200,
        f"payments answers through the gateway again (GET {PAYMENTS} answered {status})",
        "switch `slow` off, wait for the breaker's cool-down, then check again (step 6)",
    )
    grade_answers(shop, check)


def grade_answers(shop: ShopAddress, check: Grade) -> None:
    path = shop.answers_file("04")
    if not check.that(path.exists(), f"your answers are in {path}", f"write {path} (step 7)"):
        return
    answers = yaml.safe_load(path.read_text()) or {}
    for name, expected in expected_answers(shop).items():
        given = answers.get(name)
        check.that(
            given == expected,
            f"{name} is right" + ("" if given is not None else " (no answer yet)"),
            f"look again: {name} is in the settings or metrics named in step 5",
        )


def expected_answers(shop: ShopAddress) -> dict:
    routes = load_routes(Path(shop.env.get("GATEWAY_ROUTES_FILE") or ROUTES))
    defaults = {field.name: field.default for field in dataclasses.fields(Config)}
    return {
        "timeout_seconds": routes.match("/api/payments").timeout_seconds,
        "failures_to_open": defaults["breaker_failures"],
        "cooldown_seconds": defaults["breaker_cooldown_seconds"],
        "breaker_metric": "polyshop_gateway_breaker_state",
    }


def ejections(shop: ShopAddress) -> float:
    return sum(
        sample.value
        for sample in samples(shop.gateway_metrics, "polyshop_gateway_ejections_total")
        if sample.labels.get("upstream_instance", "").startswith("payments-")
    )


def switched_on(shop: ShopAddress) -> bool:
    answer = requests.get(f"{shop.services['payments']}/readyz", timeout=5)
    return "slow" in answer.json().get("faults", {})


def answer_status(shop: ShopAddress) -> int:
    with signed_in(shop) as customer:
        return customer.get(shop.gateway + PAYMENTS, timeout=10).status_code
