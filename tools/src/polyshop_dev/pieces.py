"""The pieces of polyshop as the local stack runs them: command, readiness
probe, environment. `make up` and the end-to-end tests both use these."""

from __future__ import annotations

import dataclasses
import os
import random
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from polyshop_dev import kafka, secrets
from polyshop_dev.paths import ROOT
from polyshop_dev.stack import Piece, http_ok

BIN = Path(sys.executable).parent
# The harness's own setting: where the run's secrets are (polyshop_dev.secrets).
# Each piece is given the files of its own folder, never the whole folder.
SECRETS_DIR = "POLYSHOP_SECRETS_DIR"

# name → (language, default port). `make up` starts them all at once, with
# the gateway: none needs another to start (each calls the others, and the
# gateway's keys, only when a request or an event asks for it).
SERVICES = {
    "catalog": ("python", 5001),
    "inventory": ("node", 3001),
    "payments": ("python", 5003),
    "orders": ("python", 5002),
    "notifications": ("node", 3002),
    "storefront": ("node", 3003),
}


# Spare ports come from below the kernel's ephemeral range: a port bind(0)
# hands out is one outgoing connections take theirs from too, and between
# choosing it and a piece binding it, a client socket of another test (the
# registry's tests hold thousands) may take it. Each pytest-xdist worker
# chooses from a range of its own, so two workers never choose the same.
SPARE_PORTS = (20000, 32768)


# Ports this process handed out. Nothing holds a port between free_port()
# and the bind, so two pieces of one shop could be handed the same one (it
# happened: orders and notifications, and orders never started). A port is
# not handed out twice until half of the range has been.
_handed: set[int] = set()


def free_port() -> int:
    """A loopback port nothing listens on now and not handed out before,
    for a piece to bind soon."""
    low, high = spare_range(os.environ.get("PYTEST_XDIST_WORKER", ""))
    if len(_handed) >= (high - low) // 2:
        _handed.clear()
    for _ in range(200):
        port = random.randrange(low, high)
        if port in _handed:
            continue
        _handed.add(port)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port from {low} to {high}")


def spare_range(worker: str) -> tuple[int, int]:
    """The ports of xdist worker `gwN` (all of them outside xdist)."""
    low, high = SPARE_PORTS
    if not worker.startswith("gw") or not worker[2:].isdigit():
        return low, high
    share = (high - low) // WORKER_SHARES
    index = int(worker[2:]) % WORKER_SHARES
    return low + index * share, low + (index + 1) * share


WORKER_SHARES = 4


@dataclass(frozen=True)
class Ports:
    registry: int = 8761
    gateway: int = 8080
    services: tuple[tuple[str, int], ...] = tuple((n, p) for n, (_, p) in SERVICES.items())
    gateway_metrics: int = 9464

    @classmethod
    def spare(cls) -> Ports:
        """Free ports for every piece, so tests leave a running `make up` alone."""
        services = tuple((name, free_port()) for name in SERVICES)
        return cls(free_port(), free_port(), services, free_port())


def kafka_piece(
    data_dir: Path, port: int = 9092, controller_port: int = 9093, **cluster: Any
) -> Piece:
    """A broker alone, or with `cluster` (kafka.prepare's options) one of a cluster."""
    bootstrap = f"127.0.0.1:{port}"
    return Piece(
        name="kafka",
        command=kafka.prepare(data_dir, port, controller_port, **cluster),
        ready=lambda: kafka.is_ready(bootstrap),
        url=bootstrap,
        start_timeout=90,
    )


def kafka_cluster(data_dir: Path, ports: list[tuple[int, int]]) -> list[Piece]:
    """Brokers kafka-1, kafka-2, ..., each its own controller too, one per
    (port, controller port), in one cluster that keeps a copy of every
    record on each; to be started together (the controllers need a quorum)."""
    voters = ",".join(f"{node}@127.0.0.1:{c}" for node, (_, c) in enumerate(ports, 1))
    cluster_id = kafka.new_cluster_id()
    return [
        dataclasses.replace(
            kafka_piece(
                data_dir / f"kafka-{node}",
                port,
                controller_port,
                node_id=node,
                voters=voters,
                cluster_id=cluster_id,
                copies=len(ports),
            ),
            name=f"kafka-{node}",
        )
        for node, (port, controller_port) in enumerate(ports, 1)
    ]


def with_secrets(name: str, env: dict[str, str]) -> dict[str, str]:
    """`env` with the harness's secrets folder swapped for the piece's own files."""
    env = dict(env)
    folder = env.pop(SECRETS_DIR, None)
    return env | secrets.piece_env(name, Path(folder)) if folder else env


def gunicorn_piece(name: str, folder: Path, port: int, env: dict[str, str]) -> Piece:
    """A Flask piece served by gunicorn with the settings file in its folder."""
    env = with_secrets(name, env)
    return Piece(
        name=name,
        command=[
            str(BIN / "gunicorn"),
            "-c",
            str(folder / "gunicorn.conf.py"),
            f"{name}.wsgi:app",
        ],
        ready=http_ok(f"http://127.0.0.1:{port}/readyz"),
        env={"PORT": str(port), **env},
        url=f"http://127.0.0.1:{port}/",
    )


def registry_piece(port: int = 8761, env: dict[str, str] | None = None) -> Piece:
    return gunicorn_piece("registry", ROOT / "registry", port, env or {})


def gateway_piece(
    port: int = 8080, env: dict[str, str] | None = None, metrics_port: int = 9464
) -> Piece:
    env = {"METRICS_PORT": str(metrics_port), **(env or {})}
    return gunicorn_piece("gateway", ROOT / "gateway", port, env)


# V8 grows its young generation up to 16 MiB a half-space by default; a
# service's live heap is about 25 MiB, and the larger young generation only
# held memory: 4 MiB took about 95 MiB off the three Node.js services after
# a load of 50 orders/s, at the same CPU per order. The images run the same.
NODE_FLAGS = ["--max-semi-space-size=4"]


def service_piece(name: str, port: int, env: dict[str, str]) -> Piece:
    language, _ = SERVICES[name]
    if language == "python":
        return gunicorn_piece(name, ROOT / "services" / name, port, env)
    return Piece(
        name=name,
        command=["node", *NODE_FLAGS, str(ROOT / "node-services" / name / "src" / "server.js")],
        ready=http_ok(f"http://127.0.0.1:{port}/readyz"),
        env={"PORT": str(port), **with_secrets(name, env)},
        url=f"http://127.0.0.1:{port}/",
    )
