"""Probes for process managers and orchestrators.

`/livez`: the process answers. `/readyz`: it can serve; the registry keeps its
state in memory and waits on nothing, so it is ready as soon as it answers.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from polyshop_common import faults

bp = Blueprint("health", __name__)


@bp.get("/livez")
def livez() -> dict[str, str]:
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> dict[str, Any]:
    # A fault switch that is on shows here (polyshop_common.faults).
    return {"status": "ok"} | ({"faults": on} if (on := faults.active()) else {})
