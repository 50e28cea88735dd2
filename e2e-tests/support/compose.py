"""The shop in containers: docker-compose.yml, started by testcontainers.

The end-to-end test bodies run against either stack: the local one
(support/shop.py, processes on this machine) or this one. The setting
E2E_STACK chooses (`local`, the default, or `compose`); both yield an object
with `gateway` (the URL a user opens) and `bootstrap` (Kafka, as this
machine reaches it).

Images are built from the working tree (`up --build`: layers already built
come from the cache), every service must be healthy before a test starts
(`up --wait`), and `down --volumes` removes the containers, the network and
every database afterwards, also when a test fails.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from testcontainers.compose import DockerCompose

from support.shop import running_shop

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
STACKS = ("local", "compose")

# Ports the compose file publishes on this machine (container port → host port).
GATEWAY_PORT = 8080
KAFKA_HOST_LISTENER = 29092
PUBLISHED = {"gateway": 8080, "kafka": 9092}

log = logging.getLogger(__name__)


def chosen_stack() -> str:
    stack = os.environ.get("E2E_STACK", "local").strip() or "local"
    if stack not in STACKS:
        raise ValueError(f"E2E_STACK={stack!r}: expected one of {', '.join(STACKS)}")
    return stack


@dataclass(frozen=True)
class ComposeShop:
    compose: DockerCompose
    gateway: str
    bootstrap: str

    def logs(self, service: str) -> str:
        """What the service's containers wrote, each line prefixed with the
        container's name (one prefix per replica)."""
        stdout, _ = self.compose.get_logs(service)
        return stdout


@contextmanager
def compose_shop(*overrides: Path) -> Iterator[ComposeShop]:
    """Build and start docker-compose.yml (plus override files), wait until
    every service is healthy, and yield where the gateway and Kafka are."""
    _refuse_busy_ports()
    files = [str(COMPOSE_FILE), *(str(path) for path in overrides)]
    compose = DockerCompose(ROOT, compose_file_name=files, build=True, wait=True)
    try:
        compose.start()
        host, port = compose.get_service_host_and_port("gateway", GATEWAY_PORT)
        kafka_host, kafka_port = compose.get_service_host_and_port("kafka", KAFKA_HOST_LISTENER)
        yield ComposeShop(compose, f"http://{host}:{port}", f"{kafka_host}:{kafka_port}")
    except BaseException:
        _log_unhealthy(compose)
        raise
    finally:
        compose.stop()  # down --volumes


def _refuse_busy_ports() -> None:
    """One clear sentence instead of Docker's "port is already allocated"."""
    for service, port in PUBLISHED.items():
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                raise RuntimeError(
                    f"port {port} (the compose stack's {service}) is taken on this "
                    "machine: stop what uses it (`make up`, another compose stack) first"
                )


def _log_unhealthy(compose: DockerCompose) -> None:
    """Name the containers that are not healthy, with the end of their logs."""
    try:
        containers = compose.get_containers(include_all=True)
    except Exception:  # the engine itself may be what failed
        log.exception("could not list the compose stack's containers")
        return
    for container in containers:
        if container.State == "running" and container.Health in ("", "healthy"):
            continue
        stdout, stderr = compose.get_logs(container.Service)
        tail = "\n".join((stdout + stderr).splitlines()[-40:])
        log.error("%s is %s %s:\n%s", container.Name, container.State, container.Health, tail)


def stand_up(folder: Path) -> AbstractContextManager:
    """The shop on the stack E2E_STACK names: what a test module's `shop`
    fixture enters."""
    return compose_shop() if chosen_stack() == "compose" else running_shop(folder)
