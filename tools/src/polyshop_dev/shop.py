"""The whole shop on a stack: registry, the six services, the gateway.

`make up` runs it on the default ports; the end-to-end tests on spare ones,
with a data folder of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from polyshop_dev.pieces import Ports, gateway_piece, registry_piece, service_piece
from polyshop_dev.stack import Piece, Running, Stack


def start_shop(
    stack: Stack,
    ports: Ports,
    bootstrap: str,
    data_dir: Path,
    env: dict[str, str] | None = None,
    start: Callable[[Stack, Piece], Running] = Stack.start,
) -> dict[str, str]:
    """Start every piece but Kafka, in order; return where they are."""
    registry_url = f"http://127.0.0.1:{ports.registry}"
    common = {
        "REGISTRY_URL": registry_url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "DATA_DIR": str(data_dir),
        # The storefront logs users in, and reads the gateway's status, there.
        "GATEWAY_URL": f"http://127.0.0.1:{ports.gateway}",
        **(env or {}),
    }
    start(stack, registry_piece(ports.registry, common))
    for name, port in ports.services:
        start(stack, service_piece(name, port, common))
    start(stack, gateway_piece(ports.gateway, common))
    return {
        "storefront and API": f"http://127.0.0.1:{ports.gateway}/",
        "system view": f"http://127.0.0.1:{ports.gateway}/system",
        "registry dashboard": f"{registry_url}/",
        "kafka": bootstrap,
    }
