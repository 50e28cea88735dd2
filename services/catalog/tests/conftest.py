"""Fixtures that build on each other: settings → app → client.

`contracts_dir` and `client` come from polyshop_common.testing (see the
repository's conftest.py); what is the catalog's own is here.
"""

from __future__ import annotations

from typing import Any

import pytest

from catalog.app import create_app
from catalog.config import Settings


@pytest.fixture
def settings(service_settings: dict[str, Any]) -> Settings:
    return Settings(**service_settings)


@pytest.fixture
def app(settings: Settings):
    return create_app(settings)
