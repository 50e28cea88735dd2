"""Fixtures of the hostile-input tests: one shop for the whole folder
(a package, so `scope="package"` ends with its last test).

The shop runs as local processes with secrets of its own, so the log check
at the end (test_logs_keep_secrets.py, moved last) looks for values that
can only have come from this run. The gateway's rate limit is lifted for
it: the fuzzer sends hundreds of requests a second, and a shop answering
most of them with 429 would never show what the services do with them.

Two doors reach every service: `gateway` (the public one, paths under
`/api`) and `direct` (the service's own port, as an attacker inside the
network would), each with a token the services verify themselves.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from gateway.users import hash_password
from polyshop_dev.paths import ROOT
from polyshop_dev.secrets import generate
from support import poll
from support.hostile import Door, Secrets
from support.shop import Customer, Shop, running_shop

HERE = Path(__file__).parent
ROUTES_FILE = ROOT / "gateway" / "src" / "gateway" / "routes.yaml"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The log check reads what every other test here made the shop write:
    it runs after the last of them (and before any test of another folder)."""
    last = [item for item in items if item.get_closest_marker("after_all_hostile")]
    if not last:
        return
    rest = [item for item in items if item not in last]
    here = [i for i, item in enumerate(rest) if HERE in item.path.parents]
    at = here[-1] + 1 if here else len(rest)
    items[:] = rest[:at] + last + rest[at:]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "after_all_hostile: runs after every other hostile-input test"
    )


@pytest.fixture(scope="package")
def shop_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile-shop")


@pytest.fixture(scope="package")
def shop_secrets(shop_folder: Path) -> Secrets:
    """Secrets of this run only: any of them in a log line came from here.
    The users are this run's own, with random passwords, stored hashed."""
    passwords = {user: f"{user}-{secrets.token_hex(8)}" for user in ("alice", "bob")}
    users = [{"name": u, "password_hash": hash_password(p)} for u, p in passwords.items()]
    (shop_folder / "users.json").write_text(json.dumps({"users": users}))
    # "hostile": a credential of the tests' own, for registrations they try.
    folder = generate(shop_folder / "secrets", {"hostile": ["hostile"]})
    return Secrets(folder, passwords)


@pytest.fixture(scope="package")
def routes_without_rate_limit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    routes = yaml.safe_load(ROUTES_FILE.read_text())
    routes["defaults"]["rate_limit"] = None
    path = tmp_path_factory.mktemp("routes") / "routes.yaml"
    path.write_text(yaml.safe_dump(routes))
    return path


@pytest.fixture(scope="package")
def shop(
    shop_folder: Path,
    shop_secrets: Secrets,
    routes_without_rate_limit: Path,
) -> Iterator[Shop]:
    env = {
        # As a deployment runs: no demo users, no short secrets.
        "POLYSHOP_MODE": "production",
        "GATEWAY_USERS_FILE": str(shop_folder / "users.json"),
        "GATEWAY_ROUTES_FILE": str(routes_without_rate_limit),
        # Every request here comes from one address, the fuzzer's many failed
        # log-ins included; the limit per user name still holds.
        "GATEWAY_LOGIN_FAILURES_PER_ADDRESS": "1000000",
    }
    with running_shop(shop_folder, env) as started:
        yield started


@pytest.fixture(scope="package")
def http() -> Iterator[requests.Session]:
    """A plain HTTP client that ignores proxy settings: everything here is loopback."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


@pytest.fixture(scope="package")
def issued_tokens() -> list[str]:
    """Every token the gateway issued in this run, for the log check."""
    return []


@pytest.fixture(scope="package")
def alice(shop: Shop, shop_secrets: Secrets, issued_tokens: list[str]) -> Iterator[Customer]:
    with Customer(shop.gateway, "alice", shop_secrets.passwords["alice"]) as customer:
        issued_tokens.append(customer.session.headers["Authorization"].removeprefix("Bearer "))
        yield customer


@pytest.fixture(scope="package")
def bob(shop: Shop, shop_secrets: Secrets, issued_tokens: list[str]) -> Iterator[Customer]:
    with Customer(shop.gateway, "bob", shop_secrets.passwords["bob"]) as customer:
        issued_tokens.append(customer.session.headers["Authorization"].removeprefix("Bearer "))
        yield customer


@pytest.fixture(scope="package")
def alice_token(alice: Customer) -> str:
    return alice.session.headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture(scope="package")
def doors(shop: Shop, alice_token: str) -> dict[str, Door]:
    """`gateway` and `direct` (a service's own port, as an attacker inside
    the network would call it), both with alice's issued token: services
    verify it themselves with the gateway's public keys."""
    return {
        "gateway": Door("gateway", lambda _service: f"{shop.gateway}/api", alice_token),
        "direct": Door(
            "direct",
            lambda service: f"http://127.0.0.1:{dict(shop.ports.services)[service]}",
            alice_token,
        ),
    }


@pytest.fixture(scope="package")
def bob_order(bob: Customer) -> dict:
    """An order of bob's, finished, with its notification (and its payment,
    when confirmed) stored: what alice must never see."""
    placed = bob.place_order([{"sku": "FILTER-PAPERS", "quantity": 1}])
    assert placed.status_code == 202, placed.text
    order = bob.wait_until_finished(placed.json()["id"])
    poll(
        lambda: bob.get(f"/api/notifications?order_id={order['id']}").json(),
        30,
        interval=0.1,
        what="bob's notification of his order",
    )
    if order["status"] == "CONFIRMED":
        assert bob.get(f"/api/payments?order_id={order['id']}").json()
    return order
