"""Fixtures the Python pieces' tests share; nothing a running service needs.

A pytest plugin, loaded for every suite by the repository's top-level
conftest.py (`pytest_plugins`). A suite's own conftest.py builds `settings`
and `app` (what is its own); these build on them:

    contracts_dir, contracts        contracts/, and its schemas read once
    token_issuer                    a real issuer on a spare port (the gateway's endpoints)
    service_settings                the test values of the fields every service shares
    app → client                    Flask's test client
    app → conn                      a connection to the app's SQLite database
    token_issuer → auth             Authorization headers, signed as the gateway does
    wait_until                      poll a condition until a deadline

A fixture of the same name in a suite's conftest.py wins over these.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from polyshop_common import db, flask_db
from polyshop_common.events import Contracts, find_contracts_dir
from polyshop_common.local_issuer import LocalIssuer


@pytest.fixture(scope="session")
def contracts_dir() -> Path:
    found = find_contracts_dir()
    assert found is not None, "the tests run from a checkout: contracts/ is above them"
    return found


@pytest.fixture(scope="session")
def contracts(contracts_dir: Path) -> Contracts:
    return Contracts.load(contracts_dir)


@pytest.fixture(scope="session")
def token_issuer() -> Iterator[LocalIssuer]:
    issuer = LocalIssuer()
    yield issuer
    issuer.close()


@pytest.fixture
def service_settings(
    tmp_path: Path, contracts_dir: Path, token_issuer: LocalIssuer
) -> dict[str, Any]:
    """For a service's `Settings(**service_settings, ...)`: a fresh data
    folder, the repository's contracts, testing on, no background threads."""
    return {
        "data_dir": tmp_path,
        "auth_issuer": token_issuer.url,
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
def auth(token_issuer: LocalIssuer, app: Flask) -> Callable[..., dict[str, str]]:
    """Authorization headers for a user, or for a service calling this app's
    service (`auth("service:notifications")`), signed as the gateway does."""
    callee = app.extensions["polyshop.identity"].service

    def headers(user: str = "alice") -> dict[str, str]:
        if user.startswith("service:"):
            token = token_issuer.service_token(user.removeprefix("service:"), callee)
        else:
            token = token_issuer.user_token(user)
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


# The least environment a service starts with: development mode and a
# registry credential (`Settings.from_env(DEVELOPMENT_ENV | {...})`).
DEVELOPMENT_ENV = {"POLYSHOP_MODE": "development", "REGISTRY_TOKEN": "test-registry-token"}


def conformance_cases(name: str) -> list[dict[str, Any]]:
    """The cases of contracts/conformance/NAME.json, which both libraries run."""
    return conformance_file(name)["cases"]


def conformance_file(name: str) -> dict[str, Any]:
    """The whole of contracts/conformance/NAME.json (some hold more than `cases`)."""
    folder = find_contracts_dir()
    assert folder is not None, "no contracts/ folder above the library"
    return json.loads((folder / "conformance" / f"{name}.json").read_text())
