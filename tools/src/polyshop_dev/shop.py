"""The whole shop on a stack: registry, the six services, the gateway.

`make up` runs it on the default ports; the end-to-end tests on spare ones,
with a data folder of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from polyshop_dev import faults, kafka, secrets
from polyshop_dev.labs.where import ShopAddress
from polyshop_dev.pieces import SECRETS_DIR, Ports, gateway_piece, registry_piece, service_piece
from polyshop_dev.stack import Piece, Running, Stack


def start_shop(
    stack: Stack,
    ports: Ports,
    bootstrap: str,
    data_dir: Path,
    env: dict[str, str] | None = None,
    start: Callable[[Stack, list[Piece]], list[Running]] = Stack.start_together,
    broker: Piece | None = None,
) -> dict[str, str]:
    """Start every piece: the registry (with the `broker`, if one is given,
    and its topics), then the services and the gateway all at once. None
    waits for another to start: each registers, discovers and fetches keys
    when it needs to. Return where they are."""
    common = shop_env(ports, bootstrap, data_dir, env)
    registry_url = common["REGISTRY_URL"]
    start(stack, [*([broker] if broker else []), registry_piece(ports.registry, common)])
    if broker:
        kafka.ensure_topics(bootstrap)
    services = [service_piece(name, port, common) for name, port in ports.services]
    start(stack, [*services, gateway_piece(ports.gateway, common, ports.gateway_metrics)])
    # Where it all is, for the labs' graders and `python -m polyshop_dev.instance`.
    ShopAddress(
        gateway=f"http://127.0.0.1:{ports.gateway}",
        gateway_metrics=f"http://127.0.0.1:{ports.gateway_metrics}/metrics",
        registry=registry_url,
        kafka=bootstrap,
        data_dir=str(data_dir),
        log_dir=str(stack.log_dir),
        faults_file=common["FAULTS_FILE"],
        services={name: f"http://127.0.0.1:{port}" for name, port in ports.services},
        env=common,
        zipkin=common.get("OTEL_EXPORTER_ZIPKIN_ENDPOINT", "").removesuffix("/api/v2/spans"),
    ).write(data_dir.parent / "shop.json")
    return {
        "storefront and API": f"http://127.0.0.1:{ports.gateway}/",
        "system view": f"http://127.0.0.1:{ports.gateway}/system",
        "registry dashboard": f"{registry_url}/",
        "gateway metrics": f"http://127.0.0.1:{ports.gateway_metrics}/metrics",
        "kafka": bootstrap,
    }


def shop_env(
    ports: Ports, bootstrap: str, data_dir: Path, env: dict[str, str] | None = None
) -> dict[str, str]:
    """What every piece but Kafka is started with (`env` wins).

    The shop runs in development mode (demo users), with secrets of its own
    beside its data folder: made once, kept for the next start.
    """
    return {
        "POLYSHOP_MODE": "development",
        SECRETS_DIR: str(secrets.generate(data_dir.parent / "secrets")),
        # Tokens name the gateway as their issuer; services fetch its keys there.
        "AUTH_ISSUER": f"http://127.0.0.1:{ports.gateway}",
        "REGISTRY_URL": f"http://127.0.0.1:{ports.registry}",
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "DATA_DIR": str(data_dir),
        # Every fault switch off at each start (docs/faults.md).
        "FAULTS_FILE": str(faults.reset(data_dir.parent / "flags.json")),
        # The storefront logs users in, and reads the gateway's status, there.
        "GATEWAY_URL": f"http://127.0.0.1:{ports.gateway}",
        **(env or {}),
    }
