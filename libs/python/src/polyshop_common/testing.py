"""Fixtures the Python pieces' tests share; nothing a running service needs.

A pytest plugin, loaded for every suite by the repository's top-level
conftest.py (`pytest_plugins`). A suite's own conftest.py builds `settings`
and `app` (what is its own); these build on them:

    contracts_dir, contracts        contracts/, and its schemas read once
    service_settings                the test values of the fields every service shares
    app → client                    Flask's test client
    app → conn                      a connection to the app's SQLite database
    settings → auth                 Authorization headers, signed as the gateway does
    wait_until                      poll a condition until a deadline

A fixture of the same name in a suite's conftest.py wins over these.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from polyshop_common import db, flask_db
from polyshop_common.events import Contracts, find_contracts_dir
from polyshop_common.identity import ALGORITHM
from polyshop_common.settings import ServiceSettings


@pytest.fixture(scope="session")
def contracts_dir() -> Path:
    found = find_contracts_dir()
    assert found is not None, "the tests run from a checkout: contracts/ is above them"
    return found


@pytest.fixture(scope="session")
def contracts(contracts_dir: Path) -> Contracts:
    return Contracts.load(contracts_dir)


@pytest.fixture
def service_settings(tmp_path: Path, contracts_dir: Path) -> dict[str, Any]:
    """For a service's `Settings(**service_settings, ...)`: a fresh data
    folder, the repository's contracts, testing on, no background threads."""
    return {
        "data_dir": tmp_path,
        "contracts_dir": contracts_dir,
        "testing": True,
        "start_background": False,
    }


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def conn(app: Flask) -> Iterator[sqlite3.Connection]:
    """The app's own database, opened beside it (the app has created its tables)."""
    connection = db.connect(app.config[flask_db.CONFIG_KEY])
    yield connection
    connection.close()


@pytest.fixture
def auth(settings: ServiceSettings) -> Callable[..., dict[str, str]]:
    """Authorization headers for a user (or `service:NAME`), signed as the gateway does."""

    def headers(user: str = "alice") -> dict[str, str]:
        now = int(time.time())
        claims = {"sub": user, "iat": now, "exp": now + 60}
        token = jwt.encode(claims, settings.jwt_secret, ALGORITHM)
        return {"Authorization": f"Bearer {token}"}

    return headers


def _wait_until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        time.sleep(0.01)


@pytest.fixture
def wait_until() -> Callable[..., None]:
    """Poll a condition until it holds; fail once the deadline passes."""
    return _wait_until
