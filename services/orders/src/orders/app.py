"""polyshop's orders service: orders, their state machine, and a transactional outbox.

Read `create_app` first: every other module is reached from it by name.
"""

from __future__ import annotations

from flask import Flask

from orders import context, errors, saga, store, timeouts, views
from orders.config import SERVICE, Settings
from orders.pricing import CatalogPrices, Prices
from polyshop_common import flask_db, service
from polyshop_common.events import Contracts
from polyshop_common.http_client import ServiceClient


def create_app(config: Settings | None = None, *, prices: Prices | None = None) -> Flask:
    """Build the orders service; tests pass `config` (and may pass `prices`)."""
    settings = config or Settings.from_env()
    app = service.create_flask_app(__name__, SERVICE, settings)
    flask_db.init_app(app, settings.database(SERVICE), store.MIGRATIONS)
    register_runtime(app, settings, prices)
    app.register_blueprint(views.bp)
    errors.register_errorhandlers(app)
    return app


def register_runtime(app: Flask, settings: Settings, prices: Prices | None) -> None:
    """Registration, discovery (for catalog), the outbox relay, the saga consumer and
    the sweeper that cancels orders left PENDING too long."""
    runtime = service.Runtime(SERVICE, settings, discover=True)
    contracts = Contracts.load(settings.contracts_dir)
    relay = service.add_event_workers(
        runtime,
        SERVICE,
        settings,
        contracts,
        topics=saga.TOPICS,
        handlers=saga.handlers(contracts),
    )
    sweeper = timeouts.TimeoutSweeper(
        settings.database(SERVICE), contracts, settings.saga_timeout_seconds, relay.wake
    )
    runtime.add_worker("saga_timeouts", sweeper)
    if prices is None:
        catalog = ServiceClient(runtime.discovery, "catalog", settings.catalog_timeout_seconds)
        prices = CatalogPrices(catalog)
    context.init_app(app, prices, contracts, relay.wake)
    service.init_app(app, runtime, settings)
