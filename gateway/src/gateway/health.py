"""Health endpoints for process managers and load balancers in front.

`/livez` (and `/healthz`, its older name): the process answers. `/readyz`:
discovery has heard from the registry at least once, so the gateway can
route; `503` before that.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app

from polyshop_common import faults
from polyshop_common.problems import Problem

bp = Blueprint("health", __name__)


def register_health(app: Flask, discovery: Any) -> None:
    app.extensions["gateway.discovery"] = discovery
    app.register_blueprint(bp)


@bp.get("/livez")
@bp.get("/healthz")
def livez() -> dict[str, str]:
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> dict[str, Any]:
    if not current_app.extensions["gateway.discovery"].wait_ready(0):
        raise Problem(503, "Not ready", "No answer from the registry yet.", **switched())
    return {"status": "ready", **switched()}


def switched() -> dict[str, Any]:
    """The fault switches on, if any (polyshop_common.faults)."""
    return {"faults": on} if (on := faults.active()) else {}
