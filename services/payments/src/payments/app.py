"""polyshop's payments service: authorises (or declines) what inventory reserved.

Read `create_app` first: every other module is reached from it by name.
"""

from __future__ import annotations

from flask import Flask

from payments import authorising, store, views, voiding
from payments.config import SERVICE, Settings
from polyshop_common import flask_db, service
from polyshop_common.events import Contracts
from polyshop_common.problems import register_problem_handlers


def create_app(config: Settings | None = None) -> Flask:
    """Build the payments service; tests pass `config`."""
    settings = config or Settings.from_env()
    app = service.create_flask_app(__name__, SERVICE, settings)
    flask_db.init_app(app, settings.database(SERVICE), store.MIGRATIONS)
    register_runtime(app, settings)
    app.register_blueprint(views.bp)
    register_problem_handlers(app)
    return app


def register_runtime(app: Flask, settings: Settings) -> None:
    """Registration, the outbox relay and the consumer of topics inventory and orders."""
    runtime = service.Runtime(SERVICE, settings)
    contracts = Contracts.load(settings.contracts_dir)
    service.add_event_workers(
        runtime,
        SERVICE,
        settings,
        contracts,
        topics=[*authorising.TOPICS, *voiding.TOPICS],
        handlers=authorising.handlers(contracts, settings.decline_over_cents)
        | voiding.handlers(contracts),
    )
    service.init_app(app, runtime, settings)
