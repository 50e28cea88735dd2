"""Fixtures that build on each other: clock → store → app → client → auth.

`client` and `wait_until` come from polyshop_common.testing (see the
repository's conftest.py); `auth` here is the bearer token of the registry
credential "shop", `auth_as(name)` that of any credential in tokens.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.app import create_app
from registry.config import Settings
from registry.store import Store

from .tokens import bearer, credentials, credentials_document

TTL = 15.0
START = 1_750_000_000.0  # 2025-06-15T15:06:40Z


class FakeClock:
    """A monotonic and a wall clock that move only when a test says so."""

    def __init__(self) -> None:
        self.elapsed = 0.0

    def monotonic(self) -> float:
        return self.elapsed

    def time(self) -> float:
        return START + self.elapsed

    def advance(self, seconds: float) -> None:
        self.elapsed += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> Store:
    return Store(TTL, clock=clock.monotonic, wall_clock=clock.time)


@pytest.fixture
def settings() -> Settings:
    return Settings(
        credentials=credentials(),
        lease_ttl_seconds=TTL,
        max_wait_seconds=5,
        start_reaper=False,
        testing=True,
    )


@pytest.fixture
def app(settings: Settings, store: Store) -> Flask:
    return create_app(settings, store=store)


@pytest.fixture
def auth() -> dict[str, str]:
    return bearer("shop")


@pytest.fixture
def auth_as():
    """The Authorization header of a credential in tokens.CREDENTIALS."""
    return bearer


@pytest.fixture
def register(client: FlaskClient, auth: dict[str, str]):
    """POST a registration with the token; returns the response."""

    def post(service: str = "catalog", **body):
        body = {"host": "127.0.0.1", "port": 5001, **body}
        return client.post(f"/v1/services/{service}/instances", json=body, headers=auth)

    return post


@pytest.fixture
def credentials_file(tmp_path: Path) -> Path:
    """tokens.CREDENTIALS in a file, as REGISTRY_CREDENTIALS_FILE names it."""
    path = tmp_path / "registry-credentials.json"
    path.write_text(json.dumps(credentials_document()), encoding="utf-8")
    return path
