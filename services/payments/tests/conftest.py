"""Fixtures that build on each other: settings → app → client → token."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from payments import create_app
from payments.config import Settings
from polyshop_common import db
from polyshop_common.events import Contracts

CONTRACTS = Path(__file__).resolve().parents[3] / "contracts"
SECRET = "payments-test-secret-of-at-least-32-bytes"
LIMIT = 50000


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
        decline_over_cents=LIMIT,
        testing=True,
        start_background=False,
    )


@pytest.fixture
def app(settings: Settings):
    return create_app(settings)


@pytest.fixture
def conn(settings: Settings, app):
    connection = db.connect(settings.database("payments"))
    yield connection
    connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth():
    def headers(user: str = "alice") -> dict[str, str]:
        now = int(time.time())
        token = jwt.encode({"sub": user, "iat": now, "exp": now + 60}, SECRET, "HS256")
        return {"Authorization": f"Bearer {token}"}

    return headers
