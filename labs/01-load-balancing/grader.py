"""Lab 01: three inventory instances registered, and the gateway sent
requests to every one of them."""

from __future__ import annotations

from polyshop_dev.labs import Grade, ShopAddress
from polyshop_dev.labs.metrics import samples

WANTED = 3
EACH = 5  # requests the gateway sent to each instance, at least


def grade(shop: ShopAddress, check: Grade) -> None:
    instances = shop.instances("inventory")
    ids = sorted(instance["instance_id"] for instance in instances)
    if not check.that(
        len(ids) >= WANTED,
        f"{WANTED} inventory instances registered (the registry lists {len(ids)}: "
        f"{', '.join(ids) or 'none'})",
        "start two more with `.venv/bin/python -m polyshop_dev.instance inventory --port 3011` "
        "(and 3012), each in a terminal of its own (step 3)",
    ):
        return
    sent = requests_sent(shop)
    for instance_id in ids:
        count = sent.get(instance_id, 0)
        check.that(
            count >= EACH,
            f"the gateway sent {instance_id} at least {EACH} requests (it sent {count:.0f})",
            "send requests for stock through the gateway, with a token (step 4)",
        )


def requests_sent(shop: ShopAddress) -> dict[str, float]:
    """Requests the gateway sent to each inventory instance, by instance id."""
    sent = samples(shop.gateway_metrics, "polyshop_gateway_upstream_duration_seconds_count")
    return {
        sample.labels["upstream_instance"]: sample.value
        for sample in sent
        if sample.labels.get("upstream_service") == "inventory"
    }
