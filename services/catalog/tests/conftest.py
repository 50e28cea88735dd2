"""Fixtures that build on each other: settings → app → client."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import create_app
from catalog.config import Settings

CONTRACTS = Path(__file__).resolve().parents[3] / "contracts"


@pytest.fixture
def contracts_dir() -> Path:
    return CONTRACTS


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path, contracts_dir=CONTRACTS, testing=True, start_background=False
    )


@pytest.fixture
def app(settings: Settings):
    return create_app(settings)


@pytest.fixture
def client(app):
    return app.test_client()
