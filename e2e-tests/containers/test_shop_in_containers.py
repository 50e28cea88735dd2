"""The shop in containers, through the gateway on localhost:8080.

The saga's test bodies are the local stack's own (shop/test_saga.py),
imported here so they run once more against this folder's `shop`: the same
promises, kept by images instead of local processes.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit

import requests

from shop.test_saga import (  # noqa: F401  (collected and run here as well)
    test_a_declined_payment_cancels_the_order_and_releases_its_stock,
    test_an_order_is_confirmed_and_its_stock_is_sold,
    test_an_order_over_the_stock_is_cancelled_with_a_reason_and_stock_unchanged,
)
from support import poll
from support.compose import ComposeShop


def test_the_gateway_answers_on_localhost_8080(shop: ComposeShop):
    assert urlsplit(shop.gateway).port == 8080
    session = requests.Session()
    session.trust_env = False  # no proxy between this machine and its own port
    assert session.get("http://localhost:8080/healthz", timeout=5).status_code == 200


def test_every_inventory_instance_registers_itself(shop: ComposeShop, inventory_replicas):
    instances = poll(
        lambda: len(found := registered(shop, "inventory")) == inventory_replicas and found,
        30,
        interval=0.5,
        what=f"{inventory_replicas} inventory instances in the registry",
    )
    addresses = {(i["host"], i["port"]) for i in instances}
    assert len(addresses) == inventory_replicas


def test_the_gateway_spreads_stock_reads_over_the_inventory_instances(shop: ComposeShop, alice):
    request_ids = [f"e2e-scale-{uuid.uuid4()}" for _ in range(12)]
    for request_id in request_ids:
        answer = alice.get("/api/stock/TEA-SENCHA", headers={"X-Request-ID": request_id})
        assert answer.status_code == 200

    served_by = poll(
        lambda: len(found := upstreams(shop, request_ids)) == len(request_ids) and found,
        15,
        interval=0.5,
        what="the gateway's access log names the instance of every request",
    )
    assert len(set(served_by.values())) >= 2


def registered(shop: ComposeShop, service: str) -> list[dict]:
    """The registry's live instances of a service, asked from inside the
    compose network (the registry publishes no port)."""
    url = f"http://127.0.0.1:8761/v1/services/{service}"
    script = f"import urllib.request; print(urllib.request.urlopen({url!r}).read().decode())"
    stdout, _, code = shop.compose.exec_in_container(["python3", "-c", script], "registry")
    return json.loads(stdout)["instances"] if code == 0 else []


def upstreams(shop: ComposeShop, request_ids: list[str]) -> dict[str, str]:
    """request id → the instance that served it, from the gateway's JSON access log."""
    wanted = set(request_ids)
    found = {}
    for line in shop.logs("gateway").splitlines():
        _, _, text = line.partition("| ")
        try:
            entry = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and entry.get("request_id") in wanted and entry.get("upstream"):
            found[entry["request_id"]] = entry["upstream"]
    return found
