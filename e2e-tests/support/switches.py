"""Turning the fault switches (docs/faults.md) of a test's shop, as `make
fault` does, and waiting until the pieces say they follow."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from polyshop_common.faults import switches
from polyshop_dev import faults
from support import poll
from support.faults import FaultShop

# Node.js's provider looks at the file every 5 s, the Python one every 0.5 s.
FOLLOW_SECONDS = 15


def flag_file(shop: FaultShop) -> Path:
    return Path(shop.pieces["registry"].env["FAULTS_FILE"])


def instances(shop: FaultShop, service: str) -> list[str]:
    """The pieces of the shop that are instances of `service` (orders, orders-2)."""
    return [name for name in shop.pieces if name.split("-")[0] == service]


def readiness_faults(shop: FaultShop, piece: str) -> dict:
    """What the piece's /readyz lists as on (ready or not)."""
    url = f"http://127.0.0.1:{shop.pieces[piece].env['PORT']}/readyz"
    return requests.get(url, timeout=5).json().get("faults", {})


@contextmanager
def switched_on(shop: FaultShop, name: str, service: str | None = None) -> Iterator[list[str]]:
    """The switch on (in `service`, else wherever it acts) until the block
    ends, off again after it, also on failure; yields the pieces it is on in.
    Each step waits until every such piece lists the switch, or no longer does,
    in its /readyz."""
    targets = [service] if service else switches()[name]["pieces"]
    pieces = [piece for target in targets for piece in instances(shop, target)]
    faults.turn_on(flag_file(shop), name, [service] if service else None)
    try:
        follow(shop, name, pieces, on=True)
        yield pieces
    finally:
        faults.turn_off(flag_file(shop), name)
        follow(shop, name, pieces, on=False)


def follow(shop: FaultShop, name: str, pieces: list[str], *, on: bool) -> None:
    poll(
        lambda: all((name in readiness_faults(shop, piece)) == on for piece in pieces),
        FOLLOW_SECONDS,
        interval=0.2,
        what=f"{', '.join(pieces)} list {name} as {'on' if on else 'off'} in /readyz",
    )


def metric(shop: FaultShop, piece: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples on the piece's /metrics whose labels include `labels`."""
    url = f"http://127.0.0.1:{shop.pieces[piece].env['PORT']}/metrics"
    text = requests.get(url, timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )
