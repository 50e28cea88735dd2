"""One SQLite connection per request, opened on first use and closed after it."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from flask import Flask, current_app, g

from polyshop_common import db

CONFIG_KEY = "DATABASE"


def init_app(app: Flask, path: Path, migrations: Sequence[db.Migration]) -> None:
    """Run the migrations not run yet (see `db.migrate`) and bind the database to `app`."""
    conn = db.connect(path)
    try:
        db.migrate(conn, migrations)
    finally:
        conn.close()
    app.config[CONFIG_KEY] = str(path)
    app.teardown_appcontext(_close)


def get_db() -> sqlite3.Connection:
    if "db" not in g:
        g.db = db.connect(current_app.config[CONFIG_KEY])
    return g.db


def _close(_error: BaseException | None = None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()
