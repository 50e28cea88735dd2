"""polyshop's API gateway: the one public door of the system.

`create_app` reads as the gateway's table of contents. The `register_*`
calls below add, in order, the steps every request goes through; each policy
is one module, and leaving out its line turns it off:

    access log -> request id -> front door -> route -> auth -> rate limit -> cache -> proxy

Beside them the gateway answers a few paths itself: health, its status
(counted per route after every request), tokens and the issuer's public
keys (docs/security.md), and one composed view. Its metrics are timed for
every request and served on a port of their own (metrics.py).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from gateway.access_log import register_access_log
from gateway.auth import LoginLimiter, register_auth
from gateway.balancer import make_balancer
from gateway.breaker import Breakers
from gateway.cache import ResponseCache, register_cache
from gateway.compose import Composer, register_compose
from gateway.config import Config
from gateway.front_door import register_front_door
from gateway.health import register_health
from gateway.metrics import breaker_changed, register_metrics
from gateway.proxy import register_proxy
from gateway.ratelimit import RateLimiter, register_rate_limit
from gateway.request_id import register_request_id
from gateway.routes import load_routes, register_routes
from gateway.status import StatusBoard, Traffic, register_status
from gateway.upstreams import Upstreams, make_pools
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
    discovery = discovery or start_discovery(config)
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
    register_problem_handlers(app)
    register_access_log(app)
    register_request_id(app)
    register_front_door(app)
    register_health(app, discovery)
    register_status(app, StatusBoard(Traffic(routes), upstreams))
    register_routes(app, routes)
    register_auth(
        app,
        Issuer(config.issuer.rstrip("/"), config.signing_key, config.clients),
        config.users,
        config.jwt_ttl_seconds,
        LoginLimiter(
            config.login_failures_per_user,
            config.login_failures_per_address,
            config.login_window_seconds,
        ),
    )
    register_rate_limit(app, RateLimiter())
    register_cache(app, ResponseCache())
    register_compose(app, Composer(upstreams, routes))
    register_proxy(app, upstreams, config.max_body_bytes)
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
