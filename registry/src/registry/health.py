"""Probes for process managers and orchestrators.

`/livez`: the process answers. `/readyz`: it can serve; the registry keeps its
state in memory and waits on nothing, so it is ready as soon as it answers.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("health", __name__)


@bp.get("/livez")
def livez() -> dict[str, str]:
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> dict[str, str]:
    return {"status": "ok"}
