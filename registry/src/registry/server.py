"""The registry's gunicorn worker: gevent, and no connection waits on a client.

gevent's server serves every connection from one pool of greenlets and
stops accepting while the pool is full. Alone, that lets a few thousand idle
or long-polling connections fill it: heartbeats then wait in the kernel's
backlog until some client lets go, and leases run out for everyone. So:

- a connection that sends or reads nothing for `keepalive` seconds
  (REGISTRY_IDLE_TIMEOUT_SECONDS) is closed: between requests, in the middle
  of one, or while its answer waits to be read;
- past `worker_connections` (REGISTRY_MAX_CONNECTIONS) a connection is
  answered at once, 503 with Retry-After, from a few greenlets kept for that;
- long polls have a lower cap of their own (REGISTRY_MAX_WATCHES, watch.py),
  so watchers never hold every connection.

gunicorn.conf.py names this worker; registry/README.md has the numbers.
"""

from __future__ import annotations

import functools
import resource
import socket
from typing import Any

import gevent
from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler, PyWSGIServer

from polyshop_common.problem_json import raw_problem
from registry.context import EXTENSION

OVERFLOW_GREENLETS = 256  # beyond the cap, to turn connections away
SPARE_FILES = 128  # the listener, logs, the resolver's threads
LINGER_SECONDS = 1.0  # how long a turned-away client may take to read its answer
RETRY_AFTER_SECONDS = 2


TOO_MANY_CONNECTIONS = raw_problem(
    503,
    "Too many connections",
    "The registry serves as many connections as it can: try again shortly.",
    {"Retry-After": str(RETRY_AFTER_SECONDS)},
)
NOT_HTTP = raw_problem(400, "Bad Request", "The request is not valid HTTP/1.1.")


class RegistryServer(PyWSGIServer):
    def __init__(self, *args: Any, max_connections: int, idle_timeout: float, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout

    def handle(self, sock: socket.socket, address: Any) -> None:
        # The pool counts this connection too.
        if len(self.pool) > self.max_connections:
            turn_away(sock)
            return
        sock.settimeout(self.idle_timeout)  # bounds every wait to read or write
        super().handle(sock, address)


class RegistryHandler(PyWSGIHandler):
    def log_request(self) -> None:
        # gunicorn builds an access entry for every request, also with no
        # access log to write it to (gunicorn.conf.py): 2% of a heartbeat.
        if self.server.log.cfg.accesslog:
            super().log_request()

    def _handle_client_error(self, ex: Exception) -> Any:
        # gevent's hook for a request it cannot read (experimental, but the
        # only one): answer in the registry's error format, and let a client
        # that fell silent go without a traceback in the log.
        if isinstance(ex, OSError):
            return None
        self.log_error("invalid request from %s", self.client_address)
        return ("400", NOT_HTTP)


class RegistryWorker(GeventPyWSGIWorker):
    wsgi_handler = RegistryHandler

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cap = self.cfg.worker_connections
        self.worker_connections = cap + OVERFLOW_GREENLETS  # the size of gevent's pool
        self.server_class = functools.partial(
            RegistryServer, max_connections=cap, idle_timeout=self.cfg.keepalive
        )

    def init_process(self) -> None:
        raise_open_files_limit(self.worker_connections + SPARE_FILES, self.log)
        super().init_process()

    def handle_exit(self, sig: int, frame: Any) -> None:
        """SIGTERM: stop, and answer the long polls now. gunicorn waits for
        open requests up to graceful_timeout; those of watchers stopped
        before the registry would last that long and end killed."""
        super().handle_exit(sig, frame)
        # Not in the signal handler itself: the store's lock may be held there.
        gevent.spawn(self.wsgi.extensions[EXTENSION].store.release_watchers)


def turn_away(sock: socket.socket) -> None:
    """Answer 503 and close, reading what the client sent so it gets the answer."""
    try:
        sock.settimeout(LINGER_SECONDS)
        sock.sendall(TOO_MANY_CONNECTIONS)
        sock.shutdown(socket.SHUT_WR)
        # Closing with unread bytes would reset the connection, and the client
        # could lose the answer: read until it closes, briefly.
        with gevent.Timeout(LINGER_SECONDS, False):
            while sock.recv(4096):
                pass
    except OSError:
        pass  # the client left first


def raise_open_files_limit(needed: int, log: Any) -> None:
    """Every connection is a file: let the process open as many as it serves."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        log.warning(
            "open files are limited to %d, fewer than REGISTRY_MAX_CONNECTIONS needs (%d)",
            target,
            needed,
        )
