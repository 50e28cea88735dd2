"""The shop the fault tests break: two instances of orders (Python) and of
inventory (Node.js), short leases, short retries for notifications, no rate
limit, and the helpers that read what the system kept (registry, gateway
log, stock, payments).
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import requests
import yaml

from polyshop_dev import kafka
from polyshop_dev.labs.where import json_lines as read_json_lines
from polyshop_dev.pieces import Ports, free_port, kafka_cluster, service_piece
from polyshop_dev.seed import plentiful_seed
from polyshop_dev.shop import start_shop
from polyshop_dev.stack import Piece, Running, Stack
from support import poll
from support.load import DECLINED_SKU, SKUS, USERS, Load
from support.shop import TERMINAL, Customer, Shop

# Leases of 6 s: clients heartbeat every 2 s, a dead instance is evicted in 6.
LEASE_TTL = 6.0
HEARTBEAT = LEASE_TTL / 3
# gateway/gunicorn.conf.py: each worker process keeps its own breakers.
GATEWAY_WORKERS = 2
# A second instance of one Python and one Node.js service, on a spare port.
DOUBLED = ("orders", "inventory")
DEFAULT_ROUTES = Path(__file__).resolve().parents[2] / "gateway/src/gateway/routes.yaml"
LONG_SAGA_TIMEOUTS = {
    "ORDERS_SAGA_TIMEOUT_SECONDS": "300",
    "INVENTORY_RESERVATION_TTL_SECONDS": "600",
}
# Notifications, the one consumer that calls another service, gives up on a
# record after 1 + 3 + 6 s: test_retry_topics waits out every retry in seconds.
RETRY_DELAYS = (2, 5, 10)  # wide enough to restart orders within the retries
PIECE_ENV = {"notifications": {"CONSUMER_RETRY_DELAYS": ",".join(map(str, RETRY_DELAYS))}}


@dataclass
class FaultShop(Shop):
    pieces: dict[str, Piece] = field(default_factory=dict)
    order_ids: dict[str, str] = field(default_factory=dict)  # id → user, every order placed
    signed_in: dict[str, Customer] = field(default_factory=dict)
    # (port, controller port) of each broker, when there are several.
    cluster: tuple[tuple[int, int], ...] = ()

    @property
    def bootstrap(self) -> str:
        if not self.cluster:
            return super().bootstrap
        return ",".join(f"127.0.0.1:{port}" for port, _ in self.cluster)

    @property
    def registry(self) -> str:
        return f"http://127.0.0.1:{self.ports.registry}"

    def start(self, name: str) -> Running:
        return self.stack.start(self.pieces[name])

    def stop(self, name: str, sig: int) -> None:
        self.stack.stop(name, sig=sig)

    def instance_id(self, name: str) -> str:
        """The registry's id of a piece: service-host-port."""
        piece = self.pieces[name]
        return f"{piece.name.split('-')[0]}-127.0.0.1-{piece.env['PORT']}"

    def registered(self) -> set[str]:
        try:
            answer = requests.get(f"{self.registry}/v1/services", timeout=2)
        except requests.RequestException:
            return set()
        services = answer.json()["services"]
        return {i["instance_id"] for instances in services.values() for i in instances}

    def gateway_log(self) -> list[dict]:
        return read_json_lines(self.stack.log_dir / "gateway.log")

    def customers(self) -> dict[str, Customer]:
        """One signed-in customer per demo user, kept for the shop's life."""
        if not self.signed_in:
            self.signed_in = {user: Customer(self.gateway, user, pw) for user, pw in USERS}
        return self.signed_in

    def remember(self, load: Load) -> dict[str, str]:
        """The orders a load placed (id → user), kept for later settling."""
        placed = {order_id: sent.user for order_id, sent in load.placed().items()}
        self.order_ids.update(placed)
        return placed


@contextmanager
def fault_shop(folder: Path, brokers: int = 1) -> Iterator[FaultShop]:
    """The shop, on one broker or on a cluster of `brokers` that keeps a
    copy of every record on each and acknowledges a write once all but one
    hold it (min.insync.replicas)."""
    folder.mkdir(parents=True, exist_ok=True)
    routes = relaxed_routes(folder / "routes.yaml")
    env = {
        # Stock for every order the tests place: none is cancelled for want of it.
        "INVENTORY_SEED_FILE": str(plentiful_seed(folder / "seed.json")),
        "REGISTRY_LEASE_TTL_SECONDS": str(LEASE_TTL),
        "GATEWAY_ROUTES_FILE": str(routes),
        # Outages here outlast the default saga timeout; these tests are about
        # recovery, so orders wait instead of timing out (docs/saga.md, "Timeouts").
        **LONG_SAGA_TIMEOUTS,
    }
    with Stack(folder / "logs") as stack:
        shop = FaultShop(stack, folder, Ports.spare(), (free_port(), free_port()), env=env)
        if brokers == 1:
            shop.start_kafka()
        else:
            shop.cluster = tuple((free_port(), free_port()) for _ in range(brokers))
            stack.start_together(kafka_cluster(folder / "kafka", list(shop.cluster)))
        kafka.ensure_topics(shop.bootstrap, brokers, brokers - 1 if brokers > 1 else None)

        def start(stack: Stack, pieces: list[Piece]) -> list[Running]:
            pieces = [
                dataclasses.replace(piece, env={**piece.env, **PIECE_ENV.get(piece.name, {})})
                for piece in pieces
            ]
            shop.pieces.update((piece.name, piece) for piece in pieces)
            return stack.start_together(pieces)

        start_shop(stack, shop.ports, shop.bootstrap, folder / "data", env, start=start)
        shop.gateway = f"http://127.0.0.1:{shop.ports.gateway}"
        seconds = []
        for name in DOUBLED:
            common = {k: v for k, v in shop.pieces[name].env.items() if k != "PORT"}
            second = service_piece(name, free_port(), common)
            seconds.append(dataclasses.replace(second, name=f"{name}-2"))
        start(stack, seconds)
        services = [name for name in shop.pieces if name not in ("registry", "gateway")]
        every = {shop.instance_id(name) for name in services}
        poll(lambda: shop.registered() >= every, 15, what="every instance registered")
        try:
            yield shop
        finally:
            for customer in shop.signed_in.values():
                customer.close()


def relaxed_routes(path: Path) -> Path:
    """The shipped routes with the rate limit off: load must not turn into 429s."""
    routes = yaml.safe_load(DEFAULT_ROUTES.read_text())
    routes["defaults"]["rate_limit"] = None
    path.write_text(yaml.safe_dump(routes))
    return path


def log_time(line: dict) -> float:
    return datetime.fromisoformat(line["time"].replace("Z", "+00:00")).timestamp()


def wait_until_routed(shop: FaultShop, instance: str, after: float, timeout: float) -> float:
    """When the gateway first sent a request to `instance` after `after`."""

    def first() -> float | None:
        times = [
            log_time(line)
            for line in shop.gateway_log()
            if line.get("upstream") == instance and log_time(line) >= after
        ]
        return min(times, default=None)

    return poll(first, timeout, interval=0.1, what=f"the gateway routes to {instance}")


# What the system kept


def stock(shop: FaultShop) -> dict[str, dict]:
    customer = shop.customers()[USERS[0][0]]
    return {sku: customer.stock(sku) for sku in (*SKUS, DECLINED_SKU)}


def settle(shop: FaultShop, timeout: float = 90) -> dict[str, dict]:
    """Wait until every order placed so far is finished and no stock is held
    by a reservation; return every order as it ended."""
    customers = shop.customers()
    finished: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    for order_id, user in shop.order_ids.items():
        left = max(deadline - time.monotonic(), 1)
        finished[order_id] = customers[user].wait_until_finished(order_id, timeout=left)
    poll(
        lambda: all(s["reserved"] == 0 for s in stock(shop).values()),
        max(deadline - time.monotonic(), 5),
        interval=0.2,
        what="no stock left reserved",
    )
    return finished


# What payments holds for an order, by its end and whether it was one the
# load meant to be declined (a cancelled cheap order ran out of stock, or
# of time: no payment at all).
PAYMENTS_OF = {
    ("CONFIRMED", False): ["AUTHORIZED"],
    ("CANCELLED", True): ["DECLINED"],
    ("CANCELLED", False): [],
}


def declined(order: dict) -> bool:
    return any(item["sku"] == DECLINED_SKU for item in order["items"])


def assert_totals_add_up(shop: FaultShop, placed: dict[str, str], before: dict[str, dict]):
    """Every order placed finished once: stock sold, payments and statuses agree."""
    ended = settle(shop)
    orders = {order_id: ended[order_id] for order_id in placed}
    # Both ends of the saga, or the fault was not seen where it matters:
    # a check that passes with every order cancelled proves little.
    assert {o["status"] for o in orders.values()} == TERMINAL, Counter(
        o["status"] for o in orders.values()
    )
    sold = Counter()
    for order in orders.values():
        if order["status"] == "CONFIRMED":
            for item in order["items"]:
                sold[item["sku"]] += item["quantity"]
    expected = {
        sku: {**was, "available": was["available"] - sold[sku], "reserved": 0}
        for sku, was in before.items()
    }
    assert stock(shop) == expected

    customers = shop.customers()
    for order_id, order in orders.items():
        found = customers[placed[order_id]].get(f"/api/payments?order_id={order_id}").json()
        statuses = sorted(payment["status"] for payment in found)
        assert statuses == PAYMENTS_OF.get((order["status"], declined(order))), order
    return orders
