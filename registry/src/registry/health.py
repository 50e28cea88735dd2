"""Probes for process managers and orchestrators.

`/livez`: the process answers. `/readyz`: it can serve; the registry keeps its
state in memory, so it is ready as soon as it answers, or, beside peers,
once it has asked them for what they hold (peers.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from polyshop_common import faults
from polyshop_common.problems import Problem
from registry.peer_api import PEERS_EXTENSION

bp = Blueprint("health", __name__)


@bp.get("/livez")
def livez() -> dict[str, str]:
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> dict[str, Any]:
    peers = current_app.extensions.get(PEERS_EXTENSION)
    if peers is not None and not peers.ready:
        raise Problem(503, "Not ready", "Still asking the peer registries what they hold.")
    # A fault switch that is on shows here (polyshop_common.faults).
    return {"status": "ok"} | ({"faults": on} if (on := faults.active()) else {})
