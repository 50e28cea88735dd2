"""Stock Eureka clients, unchanged, against a real registry process and gateway.

py-eureka-client (Python), eureka-js-client (Node.js) and Spring Cloud
Netflix's client (Java, in a Spring Boot application) each register a small
service through the registry's Eureka API (registry/src/registry/eureka.py),
renew it, and discover; the gateway routes to them as to any service, and
the shop's own registry clients and the Eureka clients see each other's
instances.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from polyshop_dev import secrets
from polyshop_dev.paths import ROOT
from polyshop_dev.pieces import free_port
from polyshop_dev.stack import Running, Stack
from support import agent_piece, discovered_ids, instance_id, poll, start_gateway_to
from support.spring import spring_agent_piece

# The service each stock client registers as; each has a registry credential.
SERVICES = {"python": "py-hello", "node": "js-hello", "spring": "spring-hello"}
CLIENT_NAMES = {
    "python": "py-eureka-client",
    "node": "eureka-js-client",
    "spring": "spring-cloud-netflix",
}
COMMANDS = {
    "python": [str(ROOT / ".venv" / "bin" / "python"), "e2e-tests/agents/eureka_py_agent.py"],
    "node": ["node", "e2e-tests/agents/eureka-js-agent.mjs"],
}
RENEW_SECONDS = 1  # each client renews and fetches every second, asking a 3 s lease
START_SECONDS = 90  # the Spring agent's JVM, on a busy machine


@pytest.fixture
def gateway(stack: Stack, registry_url: str, tmp_path: Path) -> str:
    """A gateway whose only routes lead to the stock clients' services."""
    return start_gateway_to(stack, registry_url, tmp_path, list(SERVICES.values()))


@pytest.fixture
def start_eureka_client(
    stack: Stack, registry_port: int, registry_secrets: Path
) -> Callable[[str], Running]:
    """Start a stock Eureka client of one language, its credential in its server URL."""

    def start(language: str) -> Running:
        service = SERVICES[language]
        token = secrets.read(registry_secrets, service, "registry-token")
        eureka_url = f"http://{service}:{token}@127.0.0.1:{registry_port}/eureka"
        if language == "spring":
            return stack.start(
                spring_agent_piece(free_port(), spring_properties(service, eureka_url))
            )
        env = {
            "EUREKA_URL": eureka_url,
            "AGENT_SERVICE": service,
            "RENEW_SECONDS": str(RENEW_SECONDS),
        }
        return stack.start(agent_piece(f"eureka-{language}", COMMANDS[language], "/", env))

    return start


def spring_properties(service: str, eureka_url: str) -> dict[str, str]:
    """Spring Cloud's own Eureka client settings, as a team would set them."""
    return {
        "spring.application.name": service,
        "eureka.client.service-url.defaultZone": f"{eureka_url}/",
        "eureka.instance.prefer-ip-address": "true",
        "eureka.instance.ip-address": "127.0.0.1",
        "eureka.instance.instance-id": f"{service}-127.0.0.1-${{server.port}}",
        "eureka.instance.lease-renewal-interval-in-seconds": str(RENEW_SECONDS),
        "eureka.instance.lease-expiration-duration-in-seconds": str(3 * RENEW_SECONDS),
        "eureka.client.registry-fetch-interval-seconds": str(RENEW_SECONDS),
        "eureka.client.initial-instance-info-replication-interval-seconds": "0",
    }


def listed(registry_url: str, service: str) -> list[dict]:
    answer = requests.get(f"{registry_url}/v1/services/{service}", timeout=2)
    return answer.json()["instances"]


def seen_by(client: Running, service: str) -> set[str]:
    answer = requests.get(f"{client.piece.url}/discovered/{service}", timeout=2)
    answer.raise_for_status()
    return {i["instanceId"] for i in answer.json()["instances"]}


def routed(gateway: str, service: str) -> dict | None:
    # The gateway strips /api: the service gets /<service>, as the shop's do.
    answer = requests.get(f"{gateway}/api/{service}", timeout=5)
    return answer.json() if answer.status_code == 200 else None


@pytest.mark.parametrize("language", list(SERVICES))
def test_when_a_stock_eureka_client_registers_then_the_gateway_routes_to_it_and_it_renews(
    registry_url, gateway, start_eureka_client, language
):
    service = SERVICES[language]
    client = start_eureka_client(language)
    expected = instance_id(service, client.piece.url)

    [instance] = poll(lambda: listed(registry_url, service), START_SECONDS, what="registered")
    assert instance["instance_id"] == expected
    assert (instance["host"], instance["port"]) == ("127.0.0.1", urlsplit(client.piece.url).port)
    body = poll(lambda: routed(gateway, service), 10, what="the gateway routes to it")
    assert (body["instance"], body["client"]) == (expected, CLIENT_NAMES[language])

    # Kept for more than two of its 3 s leases, by renewals: an eviction and
    # a new registration would have moved its registered_at.
    heartbeats = {instance["last_heartbeat_at"]}
    deadline = time.monotonic() + 7 * RENEW_SECONDS
    while time.monotonic() < deadline:
        [now] = listed(registry_url, service)
        assert now["registered_at"] == instance["registered_at"]
        heartbeats.add(now["last_heartbeat_at"])
        time.sleep(0.2)
    assert len(heartbeats) >= 4, heartbeats


def test_stock_eureka_clients_and_the_shops_clients_see_each_other(
    registry_url, start_agent, start_eureka_client
):
    native = start_agent("python", "alpha")
    native_id = instance_id("alpha", native.piece.url)
    clients = {language: start_eureka_client(language) for language in SERVICES}
    ids = {
        language: instance_id(SERVICES[language], client.piece.url)
        for language, client in clients.items()
    }

    for language, client in clients.items():
        poll(lambda c=client: native_id in seen_by(c, "alpha"), START_SECONDS, what=language)
        for other, service in SERVICES.items():
            poll(
                lambda c=client, o=other, s=service: ids[o] in seen_by(c, s),
                START_SECONDS,
                what=f"{language} sees {other}",
            )
    for language, service in SERVICES.items():
        poll(lambda s=service, i=ids[language]: i in discovered_ids(native.piece.url, s), 5)


@pytest.mark.parametrize("language", list(SERVICES))
def test_when_a_stock_eureka_client_stops_then_it_leaves_at_once(
    stack, registry_url, start_eureka_client, language
):
    service = SERVICES[language]
    client = start_eureka_client(language)
    poll(lambda: listed(registry_url, service), START_SECONDS, what="registered")

    stack.stop(client.piece.name, sig=signal.SIGTERM)

    poll(lambda: not listed(registry_url, service), 3 * RENEW_SECONDS, what="gone")
    evictions = requests.get(f"{registry_url}/v1/evictions", timeout=2).json()["evictions"]
    assert not [e for e in evictions if e["service"] == service], "it left; no lease ran out"
