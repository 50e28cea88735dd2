"""Fixtures of the end-to-end tests: real processes, stopped after each test.

Everything is started through polyshop_dev.stack, the same code `make up`
uses, on spare ports so a running `make up` is left alone. The broker,
`kafka_bootstrap`, comes from polyshop_dev.testing (see the repository's
conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from opentelemetry import propagate
from opentelemetry.propagators.composite import CompositePropagator
from playwright.sync_api import Browser, Page, sync_playwright

from polyshop_dev import secrets
from polyshop_dev.pieces import SECRETS_DIR, free_port, registry_piece
from polyshop_dev.stack import Running, Stack
from support import AGENT_SERVICES, AGENTS, LEASE_TTL, agent_piece
from support.browser import launch
from support.shop import Customer


@pytest.fixture(autouse=True, scope="module")
def outside_client() -> Iterator[None]:
    """The tests speak to the shop as a browser or curl does, with no trace
    context of their own. A unit test that ran earlier in this process may
    have set up tracing, and `requests` would then carry the process's
    unsampled trace: the shop, following its caller, would record nothing."""
    before = propagate.get_global_textmap()
    propagate.set_global_textmap(CompositePropagator([]))
    yield
    propagate.set_global_textmap(before)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with Stack(tmp_path / "logs") as running:
        yield running


@pytest.fixture
def registry_port() -> int:
    return free_port()


@pytest.fixture
def registry_secrets(tmp_path: Path) -> Path:
    """A registry credential for each service name the agents of these tests use."""
    return secrets.generate(tmp_path / "secrets", {name: [name] for name in AGENT_SERVICES})


@pytest.fixture
def start_registry(
    stack: Stack, registry_port: int, registry_secrets: Path
) -> Callable[[], Running]:
    """Start (or start again, after a stop) the registry on one fixed port."""

    def start() -> Running:
        env = {
            SECRETS_DIR: str(registry_secrets),
            "POLYSHOP_MODE": "development",
            "REGISTRY_LEASE_TTL_SECONDS": str(LEASE_TTL),
        }
        return stack.start(registry_piece(registry_port, env))

    return start


@pytest.fixture
def registry_url(start_registry: Callable[[], Running], registry_port: int) -> str:
    start_registry()
    return f"http://127.0.0.1:{registry_port}"


@pytest.fixture
def start_agent(
    stack: Stack, registry_port: int, registry_secrets: Path
) -> Callable[[str, str], Running]:
    """Start a test agent: a real process that registers and discovers
    through the Python or the Node.js registry client."""

    def start(language: str, service: str) -> Running:
        env = {
            "REGISTRY_URL": f"http://127.0.0.1:{registry_port}",
            "REGISTRY_TOKEN": secrets.read(registry_secrets, service, "registry-token"),
            "AGENT_SERVICE": service,
        }
        return stack.start(agent_piece(f"{language}-{service}", AGENTS[language], "/livez", env))

    return start


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the run; each test gets a fresh context."""
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, shop) -> Iterator[Page]:
    """A new browser profile (no cookies) on the shop's front door."""
    context = browser.new_context(base_url=shop.gateway)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def sign_in() -> Iterator[Callable[[str, str, str], Customer]]:
    """Signs a user in at a gateway; the customer's connections are closed
    when the test ends."""
    made: list[Customer] = []

    def sign_in(gateway: str, username: str, password: str) -> Customer:
        made.append(Customer(gateway, username, password))
        return made[-1]

    yield sign_in
    for customer in made:
        customer.close()
