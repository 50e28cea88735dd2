"""The whole shop started for a test module, and a client that talks to it
only through the gateway, as a user would."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from polyshop_dev import kafka, secrets, zipkin
from polyshop_dev.pieces import Ports, free_port, kafka_piece, service_piece
from polyshop_dev.shop import shop_env, start_shop
from polyshop_dev.stack import Stack
from support import poll

TERMINAL = {"CONFIRMED", "CANCELLED"}


@dataclass
class Shop:
    stack: Stack
    folder: Path
    ports: Ports
    kafka_ports: tuple[int, int]
    gateway: str = ""
    env: dict[str, str] = field(default_factory=dict)
    zipkin: str = ""  # the trace backend's address, when the shop has one

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_ports[0]}"

    def start_kafka(self) -> None:
        self.stack.start(kafka_piece(self.folder / "kafka", *self.kafka_ports))

    def stop_kafka(self) -> None:
        self.stack.stop("kafka")

    def start_again(self, name: str) -> None:
        """Start a stopped service on its port, as start_shop started it."""
        common = shop_env(self.ports, self.bootstrap, self.folder / "data", self.env)
        self.stack.start(service_piece(name, dict(self.ports.services)[name], common))

    def secret(self, piece: str, name: str) -> str:
        """One of the run's generated secrets (the storefront's operator token, say)."""
        return secrets.read(self.folder / "secrets", piece, name)


@contextmanager
def running_shop(
    folder: Path,
    env: dict[str, str] | None = None,
    registrants: dict[str, list[str]] | None = None,
    *,
    traces: bool = False,
) -> Iterator[Shop]:
    """A broker of its own (tests stop it, and no other test's events reach
    these consumers), the registry, the five services and the gateway;
    `env` is set for every piece but the broker; `registrants` are registry
    credentials for the tests' own processes (name -> service names);
    `traces`: a Zipkin server too, every piece sending it its spans."""
    secrets.generate(folder / "secrets", registrants)
    with Stack(folder / "logs") as stack:
        shop = Shop(stack, folder, Ports.spare(), (free_port(), free_port()), env=dict(env or {}))
        if traces:
            port = free_port()
            stack.start(zipkin.zipkin_piece(port))
            shop.zipkin = f"http://127.0.0.1:{port}"
            shop.env = zipkin.tracing_env(port) | shop.env
        shop.start_kafka()
        kafka.ensure_topics(shop.bootstrap)
        start_shop(stack, shop.ports, shop.bootstrap, folder / "data", shop.env)
        shop.gateway = f"http://127.0.0.1:{shop.ports.gateway}"
        yield shop


@dataclass
class Customer:
    """A signed-in user of the shop, speaking to the gateway only."""

    gateway: str
    username: str
    password: str
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.session.trust_env = False
        answer = self.session.post(
            f"{self.gateway}/auth/token",
            json={"username": self.username, "password": self.password},
            timeout=5,
        )
        answer.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def __enter__(self) -> Customer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes the pooled connections: left to the garbage collector, a
        socket's warning would fail whichever test runs at that moment."""
        self.session.close()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.gateway + path, timeout=10, **kwargs)

    def place_order(self, items: list[dict], key: str | None = None) -> requests.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return self.session.post(
            f"{self.gateway}/api/orders",
            data=json.dumps({"items": items}),
            headers={"Content-Type": "application/json", **headers},
            timeout=10,
        )

    def order(self, order_id: str) -> dict:
        answer = self.get(f"/api/orders/{order_id}")
        answer.raise_for_status()
        return answer.json()

    def wait_until_finished(self, order_id: str, timeout: float = 30) -> dict:
        return poll(
            lambda: (o := self.order(order_id))["status"] in TERMINAL and o,
            timeout,
            interval=0.1,
            what=f"order {order_id} reaches a final status",
        )

    def stock(self, sku: str) -> dict:
        answer = self.get(f"/api/stock/{sku}")
        answer.raise_for_status()
        return answer.json()


def new_key() -> str:
    return str(uuid.uuid4())
