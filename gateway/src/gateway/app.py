"""polyshop's API gateway: the one public door of the system.

`create_app` reads as the gateway's table of contents. Every request but
the gateway's own endpoints goes through `Edge` (edge.py), which runs the
policy steps in order, each one module:

    request id -> front door -> route -> auth -> rate limit -> cache -> compose or proxy

and writes an access line, the request's metrics and its count on the
status board. The gateway answers a few paths itself, as a Flask app
behind the same edge: health, its status, tokens and the issuer's public
keys (docs/security.md). Its metrics are served on a port of their own
(metrics.py).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from gateway.auth import LoginLimiter, own_token_verifier, register_auth
from gateway.balancer import make_balancer
from gateway.breaker import Breakers
from gateway.cache import ResponseCache
from gateway.compose import Composer
from gateway.config import Config
from gateway.edge import Edge
from gateway.front_door import register_front_door
from gateway.health import register_health
from gateway.metrics import breaker_changed, register_metrics
from gateway.ratelimit import RateLimiter
from gateway.routes import load_routes
from gateway.status import StatusBoard, Traffic, register_status
from gateway.upstreams import Upstreams, make_pools
from polyshop_common import faults
from polyshop_common.issuer import Issuer
from polyshop_common.logs import configure_logging
from polyshop_common.problems import register_problem_handlers
from polyshop_common.registry import Discovery, RegistryApi
from polyshop_common.settings import announce_mode
from polyshop_common.telemetry import instrument_app

UPSTREAM_POOL_SIZE = 64


def create_app(config: Config | None = None, discovery: Any = None) -> Flask:
    config = config or Config.from_env()
    configure_logging("gateway", config.log_level)
    announce_mode(config.mode, "gateway")
    if discovery is None:
        discovery = start_discovery(config)
        faults.watch("gateway")
    routes = load_routes(config.routes_file)
    upstreams = Upstreams(
        discovery,
        make_balancer(config.balancer),
        Breakers(
            config.breaker_failures, config.breaker_cooldown_seconds, on_change=breaker_changed
        ),
        make_pools(UPSTREAM_POOL_SIZE),
    )

    app = Flask(__name__, static_folder=None)
    instrument_app(app, "gateway")
    register_metrics(app)
    app.config["GATEWAY"] = config
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    register_problem_handlers(app)
    register_front_door(app)
    register_health(app, discovery)
    traffic = Traffic(routes)
    register_status(app, StatusBoard(traffic, upstreams))
    issuer = Issuer(config.issuer.rstrip("/"), config.signing_key, config.clients)
    verifier = own_token_verifier(issuer)
    register_auth(
        app,
        issuer,
        verifier,
        config.users,
        config.jwt_ttl_seconds,
        LoginLimiter(
            config.login_failures_per_user,
            config.login_failures_per_address,
            config.login_window_seconds,
        ),
    )
    app.extensions["gateway.upstreams"] = upstreams
    composer = app.extensions["gateway.compose"] = Composer(upstreams, routes)
    app.wsgi_app = Edge(  # type: ignore[method-assign]
        app.wsgi_app,
        routes=routes,
        verifier=verifier,
        limiter=RateLimiter(),
        cache=ResponseCache(),
        composer=composer,
        upstreams=upstreams,
        traffic=traffic,
        max_body_bytes=config.max_body_bytes,
    )
    return app


def start_discovery(config: Config) -> Discovery:
    """Watch the registry in the background; requests read only its cache."""
    discovery = Discovery(RegistryApi(config.registry_url), wait_seconds=30)
    discovery.start()
    return discovery


def close_app(app: Flask) -> None:
    """Stop background work (gunicorn calls this when a worker exits)."""
    app.extensions["gateway.compose"].close()
    app.extensions["gateway.discovery"].close()
