"""Fixtures that build on each other: settings → app → client, conn, auth.

`contracts`, `contracts_dir`, `client`, `conn` and `auth` come from
polyshop_common.testing (see the repository's conftest.py); what is the
payments service's own is here.
"""

from __future__ import annotations

from typing import Any

import pytest

from payments.app import create_app
from payments.config import Settings

LIMIT = 50000


@pytest.fixture
def settings(service_settings: dict[str, Any]) -> Settings:
    return Settings(**service_settings, decline_over_cents=LIMIT)


@pytest.fixture
def app(settings: Settings):
    return create_app(settings)
