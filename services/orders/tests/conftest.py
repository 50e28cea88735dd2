"""Fixtures that build on each other: settings → prices → app → client → token."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
import pytest

from orders import create_app
from orders.config import Settings
from orders.pricing import pick
from polyshop_common import db
from polyshop_common.events import Contracts
from polyshop_common.http_client import ServiceUnavailable

CONTRACTS = Path(__file__).resolve().parents[3] / "contracts"
SECRET = "orders-test-secret-of-at-least-32-bytes"


class FakePrices:
    """The catalog's answer, from the seed file; `down = True` makes it unreachable."""

    def __init__(self) -> None:
        seed = json.loads((CONTRACTS / "seed" / "products.json").read_text())
        self.products = [p | {"currency": seed["currency"]} for p in seed["products"]]
        self.down = False
        self.calls = 0

    def lookup(self, skus):
        self.calls += 1
        if self.down:
            raise ServiceUnavailable("no live instance of catalog")
        return pick(self.products, skus)


@pytest.fixture(scope="session")
def contracts() -> Contracts:
    return Contracts.load(CONTRACTS)


@pytest.fixture
def contracts_dir() -> Path:
    return CONTRACTS


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        contracts_dir=CONTRACTS,
        jwt_secret=SECRET,
        testing=True,
        start_background=False,
    )


@pytest.fixture
def conn(settings: Settings, app):
    connection = db.connect(settings.database("orders"))
    yield connection
    connection.close()


@pytest.fixture
def prices() -> FakePrices:
    return FakePrices()


@pytest.fixture
def app(settings: Settings, prices: FakePrices):
    return create_app(settings, prices=prices)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth():
    """Authorization headers for a user (or `service:NAME`), signed as the gateway does."""

    def headers(user: str = "alice") -> dict[str, str]:
        now = int(time.time())
        token = jwt.encode({"sub": user, "iat": now, "exp": now + 60}, SECRET, "HS256")
        return {"Authorization": f"Bearer {token}"}

    return headers
