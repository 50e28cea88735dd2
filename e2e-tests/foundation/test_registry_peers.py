"""Two registry processes side by side, each sending the other what its
clients wrote. Clients of both languages, and a gateway, know both
addresses. One registry is killed: the clients keep renewing, registering
and routing through the other, and no instance is evicted; started again,
it catches up and both list the same instances; then the other is killed,
and the one started again carries the shop alone."""

from __future__ import annotations

import dataclasses
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from polyshop_dev import secrets
from polyshop_dev.pieces import SECRETS_DIR, free_port, registry_piece
from polyshop_dev.stack import Running, Stack
from support import AGENTS, LEASE_TTL, agent_piece, instance_id, poll, start_gateway_to

SERVICES = {"python": "alpha", "node": "beta"}
NAMES = ("registry-a", "registry-b")


@dataclasses.dataclass
class Registries:
    ports: dict[str, int]
    start: Callable[[str], Running]

    @property
    def url(self) -> str:
        """What every client is given: both addresses."""
        return ",".join(self.address(name) for name in NAMES)

    def address(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def listed(self, name: str) -> dict[str, float]:
        """Each instance the registry lists, with when it was registered."""
        answer = requests.get(f"{self.address(name)}/v1/services", timeout=2).json()
        return {
            instance["instance_id"]: instance["registered_at"]
            for instances in answer["services"].values()
            for instance in instances
        }


@pytest.fixture
def registries(stack: Stack, registry_secrets: Path) -> Registries:
    ports = {name: free_port() for name in NAMES}
    env = {
        SECRETS_DIR: str(registry_secrets),
        "POLYSHOP_MODE": "development",
        "REGISTRY_LEASE_TTL_SECONDS": str(LEASE_TTL),
        # Each is given both addresses, its own among them: it finds itself.
        "REGISTRY_PEERS": ",".join(f"http://127.0.0.1:{port}" for port in ports.values()),
    }

    def start(name: str) -> Running:
        return stack.start(dataclasses.replace(registry_piece(ports[name], env), name=name))

    for name in NAMES:
        start(name)
    return Registries(ports, start)


def start_agent(stack: Stack, secrets_dir: Path, language: str, service: str, url: str) -> Running:
    env = {
        "REGISTRY_URL": url,
        "REGISTRY_TOKEN": secrets.read(secrets_dir, service, "registry-token"),
        "AGENT_SERVICE": service,
    }
    return stack.start(agent_piece(f"{language}-{service}", AGENTS[language], "/livez", env))


def routed(gateway: str, service: str) -> str | None:
    """The instance the gateway reached for `service`, if it reached one."""
    answer = requests.get(f"{gateway}/api/{service}", timeout=5)
    return answer.json()["instance"] if answer.status_code == 200 else None


def hold_while_alone(registries: Registries, alone: str, gateway: str, expected: dict) -> None:
    """For two leases and more: every route answers, and the registry left
    keeps every instance, registered when it first was (none was evicted
    and registered again)."""
    deadline = time.monotonic() + 2 * LEASE_TTL + 1
    while time.monotonic() < deadline:
        for service in SERVICES.values():
            assert routed(gateway, service) is not None, f"{service} not routed"
        assert registries.listed(alone) == expected
        time.sleep(0.2)


def test_one_of_two_registries_killed_the_clients_go_on_and_the_two_converge_again(
    stack, registries, registry_secrets, tmp_path
):
    agents = {
        lang: start_agent(stack, registry_secrets, lang, service, registries.url)
        for lang, service in SERVICES.items()
    }
    ids = {instance_id(SERVICES[lang], agent.piece.url) for lang, agent in agents.items()}
    gateway = start_gateway_to(stack, registries.url, tmp_path, [*SERVICES.values(), "gamma"])

    # Registered with the first, replicated to the second.
    both = poll(
        lambda: (
            (a := registries.listed("registry-a")) == registries.listed("registry-b")
            and set(a) == ids
            and a
        ),
        5,
        what="both registries list both instances",
    )
    for service in SERVICES.values():
        poll(lambda s=service: routed(gateway, s), 10, what=f"the gateway routes to {service}")

    stack.stop("registry-a", sig=signal.SIGKILL)
    hold_while_alone(registries, "registry-b", gateway, both)

    # A new instance while the first is away registers with the second.
    gamma = start_agent(stack, registry_secrets, "python", "gamma", registries.url)
    gamma_id = instance_id("gamma", gamma.piece.url)
    poll(lambda: gamma_id in registries.listed("registry-b"), 5, what="gamma registered")
    poll(lambda: routed(gateway, "gamma") == gamma_id, 10, what="the gateway routes to gamma")

    # Started again, the first catches up before it says it is ready.
    registries.start("registry-a")
    every = registries.listed("registry-b")
    assert set(every) == ids | {gamma_id}
    poll(
        lambda: registries.listed("registry-a") == registries.listed("registry-b") == every,
        5,
        what="the two registries agree again",
    )

    # The second killed now, the first carries every client alone.
    stack.stop("registry-b", sig=signal.SIGKILL)
    hold_while_alone(registries, "registry-a", gateway, every)
    assert routed(gateway, "gamma") == gamma_id
