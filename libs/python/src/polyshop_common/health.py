"""Probes: `/livez` (the process answers) and `/readyz` (it can serve).

Ready means the database answers and every part of the service's runtime
(registration, discovery, consumer, relay) reports itself up; otherwise
503 with the checks, so an operator sees which part is missing.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from flask import Blueprint, current_app

from polyshop_common import faults
from polyshop_common.flask_db import get_db
from polyshop_common.problems import Problem

EXTENSION = "polyshop.runtime"

log = logging.getLogger(__name__)

health = Blueprint("health", __name__)


@health.get("/livez")
def livez() -> dict[str, str]:
    return {"status": "ok"}


@health.get("/readyz")
def readyz() -> dict[str, Any]:
    checks = {"database": _database_answers()} | current_app.extensions[EXTENSION].checks()
    # A fault switch that is on shows here, ready or not (polyshop_common.faults).
    switched = {"faults": on} if (on := faults.active()) else {}
    if not all(checks.values()):
        raise Problem(503, "Service Unavailable", "Not ready yet.", checks=checks, **switched)
    return {"status": "ok", "checks": checks, **switched}


def _database_answers() -> bool:
    try:
        get_db().execute("SELECT 1")
    except sqlite3.Error:
        log.exception("the database does not answer")
        return False
    return True
