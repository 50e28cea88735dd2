"""The gunicorn settings every Python service shares (catalog, orders, payments).

A service's gunicorn.conf.py takes all of them, then says where it listens
and which app it serves:

    from catalog.config import Settings
    from polyshop_common.gunicorn_service import *  # noqa: F403
    from polyshop_common.gunicorn_service import bind_for

    bind = bind_for(Settings.from_env())
    wsgi_app = "catalog.wsgi:app"

gunicorn reads a settings file's module-level names; these are listed in
`__all__`, so the star import brings exactly them.
"""

from __future__ import annotations

from polyshop_common.service import bind_address, post_worker_init, worker_exit
from polyshop_common.settings import ServiceSettings

__all__ = [
    "accesslog",
    "control_socket_disable",
    "errorlog",
    "graceful_timeout",
    "keepalive",
    "post_worker_init",
    "preload_app",
    "threads",
    "worker_class",
    "worker_exit",
    "workers",
]

# One worker process: the registration (and, where the service has them, the
# Kafka consumer and the outbox relay) are threads of the worker, started in
# the post_worker_init hook and stopped in worker_exit, deregistering first.
# More worker processes would each run a relay and a consumer of their own
# over the same database; more capacity means more instances on other ports,
# each registering itself. Threads serve requests side by side.
workers = 1
worker_class = "gthread"
threads = 8

# The app and its threads are built in the worker, never in the master.
preload_app = False
graceful_timeout = 10

# The gateway and other services keep pooled connections open between
# requests. gunicorn's default (2 s) would close idle ones under them, and a
# POST sent on a connection the server is closing fails without a retry.
keepalive = 75

# JSON logs come from the app; gunicorn's access log would be a second format.
accesslog = None
errorlog = "-"

# Several gunicorn processes run side by side on one machine (one per piece,
# more during the tests); they would all share gunicorn's one default control
# socket path. polyshop does not use `gunicornc`, so none is opened.
control_socket_disable = True


def bind_for(settings: ServiceSettings) -> str:
    """gunicorn's `bind` for the HOST and PORT of a service's settings."""
    return bind_address(settings.host, settings.port)
