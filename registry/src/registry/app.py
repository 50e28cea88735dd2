"""polyshop's service registry: leases (as Eureka's) and long-poll watches (as Consul's).

Read `create_app` first: every other module is reached from it by name.
"""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.exceptions import RequestEntityTooLarge

from polyshop_common import faults
from polyshop_common.logs import configure_logging
from polyshop_common.problems import problem_response, register_problem_handlers
from polyshop_common.settings import announce_mode
from registry import api, context, dashboard, eureka, health, peer_api
from registry.config import Settings
from registry.fast_path import HeartbeatFastPath
from registry.hosts import HostPolicy, Resolve, resolve_addresses
from registry.metrics import register_metrics
from registry.peers import Peers
from registry.reaper import Reaper
from registry.store import Store
from registry.validation import Rules

MAX_BODY_BYTES = 64 * 1024
REAPER_EXTENSION = "registry.reaper"


def create_app(
    config: Settings | None = None,
    *,
    store: Store | None = None,
    resolve: Resolve = resolve_addresses,
) -> Flask:
    """Build the registry; tests pass `config` (and may pass a `store` with a
    fake clock, a `resolve` with names of their own)."""
    settings = config or Settings.from_env()
    register_logging(settings)
    app = Flask(__name__)
    configure_app(app, settings)
    store = store or Store(settings.lease_ttl_seconds, limits=settings.limits)
    register_extensions(app, settings, store, resolve)
    register_blueprints(app)
    register_errorhandlers(app)
    register_metrics(app, store)
    register_fast_path(app)
    if settings.start_reaper:
        start_reaper(app, store, settings.eviction_interval_seconds)
        faults.watch("registry")
        if settings.peers:
            start_peers(app, store, settings)
    return app


def register_logging(settings: Settings) -> None:
    if not settings.testing:
        configure_logging("registry", settings.log_level)
    announce_mode(settings.mode, "registry")


def configure_app(app: Flask, settings: Settings) -> None:
    app.config["TESTING"] = settings.testing
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES  # larger bodies: 413
    app.json.sort_keys = False  # keep fields in their documented order


def register_extensions(app: Flask, settings: Settings, store: Store, resolve: Resolve) -> None:
    hosts = HostPolicy(settings.allowed_networks, resolve)
    rules = Rules(hosts=hosts, max_metadata_bytes=settings.max_metadata_bytes)
    context.init_app(app, settings, store, rules)


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(api.bp)
    app.register_blueprint(eureka.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(peer_api.bp)


def register_errorhandlers(app: Flask) -> None:
    register_problem_handlers(app)
    app.register_error_handler(RequestEntityTooLarge, _body_too_large)


def register_fast_path(app: Flask) -> None:
    # Last: it reads the finished routes. Why it exists: fast_path.py.
    app.wsgi_app = HeartbeatFastPath(app)


def start_reaper(app: Flask, store: Store, interval_seconds: float) -> None:
    reaper = Reaper(store, interval_seconds)
    reaper.start()
    app.extensions[REAPER_EXTENSION] = reaper


def start_peers(app: Flask, store: Store, settings: Settings) -> None:
    # Replication to the registries beside this one: peers.py.
    peers = Peers(store, settings.peers, settings.peer_token or "")
    peers.start()
    app.extensions[peer_api.PEERS_EXTENSION] = peers


def _body_too_large(error: RequestEntityTooLarge) -> Response:
    detail = f"The body is larger than {MAX_BODY_BYTES // 1024} KiB."
    return problem_response(413, "Content Too Large", detail)
