"""One SQLite connection per thread, opened on its first request and kept.

gunicorn's threads live as long as the worker, so a request finds its
thread's connection open: opening one (the file, the pragmas) cost a
fifth of the catalog's CPU per request when each request opened its own.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from flask import Flask, current_app

from polyshop_common import db

CONFIG_KEY = "DATABASE"
EXTENSION = "polyshop.db"


class ThreadConnections:
    """Each thread's own connection to one database file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()

    def get(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = db.connect(self.path)
        return conn

    def end_request(self) -> None:
        """Never hand the next request a transaction this one left open."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn.in_transaction:
            conn.execute("ROLLBACK")


def init_app(app: Flask, path: Path, migrations: Sequence[db.Migration]) -> None:
    """Run the migrations not run yet (see `db.migrate`) and bind the database to `app`."""
    conn = db.connect(path)
    try:
        db.migrate(conn, migrations)
    finally:
        conn.close()
    app.config[CONFIG_KEY] = str(path)
    connections = app.extensions[EXTENSION] = ThreadConnections(str(path))
    app.teardown_appcontext(lambda _error: connections.end_request())


def get_db() -> sqlite3.Connection:
    return current_app.extensions[EXTENSION].get()
