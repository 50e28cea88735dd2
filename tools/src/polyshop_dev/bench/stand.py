"""The shop the benchmark loads: every piece on spare ports, with a broker
and a data folder of its own, so a running `make up` is left alone.

The one difference from `make up` is the gateway's routes file: a copy of
the shipped one with every rate limit turned off, since one benchmark client
sends far more than the 20 requests a second a route allows one user. The
shipped file is read, never changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from polyshop_dev import kafka, zipkin
from polyshop_dev.paths import ROOT
from polyshop_dev.pieces import Ports, free_port, kafka_piece
from polyshop_dev.seed import plentiful_seed
from polyshop_dev.shop import start_shop
from polyshop_dev.stack import Piece, Running, Stack

SHIPPED_ROUTES = ROOT / "gateway" / "src" / "gateway" / "routes.yaml"
RATE_LIMIT = re.compile(r"rate_limit: \{[^}]*\}")
USERS = {"alice": "wonderland", "bob": "builder"}  # the gateway's default demo users


@dataclass(frozen=True)
class BenchShop:
    stack: Stack
    gateway: str
    bootstrap: str


@contextmanager
def bench_shop(
    folder: Path,
    env: dict[str, str] | None = None,
    *,
    traces: bool = False,
    start: Callable[[Stack, list[Piece]], list[Running]] = Stack.start_together,
) -> Iterator[BenchShop]:
    """Kafka, the registry, the services and the gateway (`env` set for
    each; with `traces`, a Zipkin server that they send every span to),
    started by `start`; all stopped (each piece's whole process group) when
    the block ends."""
    routes = routes_without_limits(folder / "routes.yaml")
    ports = Ports.spare()
    bootstrap_port = free_port()
    env = {
        "GATEWAY_ROUTES_FILE": str(routes),
        # Stock for every order of the run: each one goes the whole saga.
        "INVENTORY_SEED_FILE": str(plentiful_seed(folder / "seed.json")),
        **(env or {}),
    }
    with Stack(folder / "logs") as stack:
        if traces:
            port = free_port()
            stack.start(zipkin.zipkin_piece(port))
            env = zipkin.tracing_env(port) | env
        stack.start(kafka_piece(folder / "kafka", bootstrap_port, free_port()))
        bootstrap = f"127.0.0.1:{bootstrap_port}"
        kafka.ensure_topics(bootstrap)
        start_shop(stack, ports, bootstrap, folder / "data", env=env, start=start)
        yield BenchShop(stack, f"http://127.0.0.1:{ports.gateway}", bootstrap)


def routes_without_limits(path: Path) -> Path:
    shipped = SHIPPED_ROUTES.read_text()
    copy, changed = RATE_LIMIT.subn("rate_limit: null", shipped)
    if not changed:
        raise SystemExit(f"no `rate_limit: {{...}}` found in {SHIPPED_ROUTES} to turn off")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# The shipped routes with rate limits off, for the benchmark.\n" + copy)
    return path


def tokens(gateway: str) -> list[str]:
    """A bearer token for each demo user."""
    found = []
    for username, password in USERS.items():
        answer = requests.post(
            f"{gateway}/auth/token", json={"username": username, "password": password}, timeout=5
        )
        answer.raise_for_status()
        found.append(answer.json()["access_token"])
    return found
