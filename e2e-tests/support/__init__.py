"""Shared pieces of the end-to-end tests: polling with a deadline, reading the
registry and the agents."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import requests

from polyshop_common.signing import SigningKey
from polyshop_dev.paths import ROOT
from polyshop_dev.pieces import free_port, gateway_piece
from polyshop_dev.stack import Piece, Stack, http_ok

T = TypeVar("T")

# The service names the registry tests' agents register as: each has a
# registry credential of its own (conftest.py, `registry_secrets`).
AGENT_SERVICES = (
    *("alpha", "beta", "gamma", "watcher", "python-svc", "node-svc", "leaver"),
    *("catalog", "payments"),
    *("py-hello", "js-hello", "spring-hello"),  # the stock Eureka clients' services
)
# The test agents: real processes that register and discover through the
# Python or the Node.js registry client (e2e-tests/agents/).
AGENTS = {
    "python": [str(ROOT / ".venv" / "bin" / "python"), "e2e-tests/agents/python_agent.py"],
    "node": ["node", "e2e-tests/agents/node-agent.mjs"],
}
# A short lease keeps the tests quick; clients heartbeat at a third of it.
LEASE_TTL = 3.0
HEARTBEAT_INTERVAL = LEASE_TTL / 3


def poll(check: Callable[[], T], timeout: float, interval: float = 0.05, what: str = "") -> T:
    """Call `check` until it returns something truthy, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what or check}")
        time.sleep(interval)


def registered_ids(registry_url: str, service: str) -> set[str]:
    try:
        answer = requests.get(f"{registry_url}/v1/services/{service}", timeout=2)
    except requests.RequestException:
        return set()
    return {i["instance_id"] for i in answer.json()["instances"]}


def discovered_ids(agent_url: str, service: str) -> set[str]:
    answer = requests.get(f"{agent_url}/discover/{service}", timeout=2)
    answer.raise_for_status()
    return {i["instance_id"] for i in answer.json()["instances"]}


def instance_id(service: str, agent_url: str) -> str:
    """The id a client picks by default: service-host-port."""
    host_port = agent_url.removeprefix("http://").replace(":", "-")
    return f"{service}-{host_port}"


def parse_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def agent_piece(name: str, command: list[str], ready_path: str, env: dict[str, str]) -> Piece:
    """A test agent on a free port (PORT), ready when `ready_path` answers."""
    port = free_port()
    return Piece(
        name=name,
        command=command,
        ready=http_ok(f"http://127.0.0.1:{port}{ready_path}"),
        env={"PORT": str(port), **env},
        url=f"http://127.0.0.1:{port}",
    )


def start_gateway_to(stack: Stack, registry_url: str, folder: Path, services: list[str]) -> str:
    """A gateway whose only routes lead to `services` (`/api/NAME`, no token
    needed), finding them through `registry_url`; its address."""
    port = free_port()
    routes = "\n".join(f"  - {{prefix: /api/{s}, service: {s}, auth: false}}" for s in services)
    (folder / "routes.yaml").write_text(f"defaults: {{rate_limit: null}}\nroutes:\n{routes}\n")
    (folder / "signing-key.pem").write_bytes(SigningKey.generate().pem())
    env = {
        "POLYSHOP_MODE": "development",
        "REGISTRY_URL": registry_url,
        "AUTH_ISSUER": f"http://127.0.0.1:{port}",
        "JWT_SIGNING_KEY_FILE": str(folder / "signing-key.pem"),
        "GATEWAY_ROUTES_FILE": str(folder / "routes.yaml"),
    }
    stack.start(gateway_piece(port, env, free_port()))
    return f"http://127.0.0.1:{port}"
