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

The master reads this file too, and it only supervises: it imports what
the settings need and no more. Flask, Kafka, OpenTelemetry and the app are
imported by the worker, in the hooks below; imported in the master they
took about 65 MiB in each of five processes, for nothing.
"""

from __future__ import annotations

from typing import Any

from polyshop_common.settings import ServiceSettings, bind_address

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


def post_worker_init(worker: Any) -> None:
    from polyshop_common import service  # in the worker only: see above

    service.post_worker_init(worker)


def worker_exit(server: Any, worker: Any) -> None:
    from polyshop_common import service

    service.worker_exit(server, worker)


def bind_for(settings: ServiceSettings) -> str:
    """gunicorn's `bind` for the HOST and PORT of a service's settings."""
    return bind_address(settings.host, settings.port)
