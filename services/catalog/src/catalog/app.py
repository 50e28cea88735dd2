"""polyshop's catalog: products and their prices, public to read.

Read `create_app` first: every other module is reached from it by name.
"""

from __future__ import annotations

import logging

from flask import Flask

from catalog import products, views
from catalog.config import SERVICE, Settings
from polyshop_common import db, flask_db, service
from polyshop_common.problems import register_problem_handlers

log = logging.getLogger(__name__)


def create_app(config: Settings | None = None) -> Flask:
    """Build the catalog; tests pass `config`."""
    settings = config or Settings.from_env()
    app = service.create_flask_app(__name__, SERVICE, settings)
    register_database(app, settings)
    register_runtime(app, settings)
    app.register_blueprint(views.bp)
    register_problem_handlers(app)
    return app


def register_database(app: Flask, settings: Settings) -> None:
    path = settings.database(SERVICE)
    flask_db.init_app(app, path, products.MIGRATIONS)
    conn = db.connect(path)
    try:
        if added := products.seed_if_empty(conn, settings.seed_file):
            log.info("seeded the catalog", extra={"products": added})
    finally:
        conn.close()


def register_runtime(app: Flask, settings: Settings) -> None:
    """Registration is the catalog's only background work: it calls no one."""
    service.init_app(app, service.Runtime(SERVICE, settings), settings)
