"""gunicorn settings for the gateway.

Start it from the repository root:

    .venv/bin/gunicorn -c gateway/gunicorn.conf.py gateway.wsgi:app

HOST and PORT come from the gateway's own config, so they have the same
defaults as everywhere else. The worker model was chosen by measurement:
see docs/adr/0004-gateway-worker-model.md and docs/benchmarks/gateway.md.
"""

# gevent workers: patch the standard library before anything imports
# sockets or ssl (importing the gateway imports urllib3), or gevent warns
# that it came too late.
from gevent import monkey

monkey.patch_all()

from gateway import close_app  # noqa: E402
from gateway.config import Config  # noqa: E402
from polyshop_common.service import bind_address  # noqa: E402

_config = Config.from_env()

bind = bind_address(_config.host, _config.port)
wsgi_app = "gateway.wsgi:app"  # the app when none is named on the command line (the image)

# A gateway mostly waits on upstreams. gevent runs each request in a
# greenlet, so an upstream call waits without holding a thread; measured
# against gthread it served more requests per second with a lower latency at
# one connection (ADR 0004). gevent's own WSGI server sends a response's
# headers and body in one system call where gunicorn's sends two. One worker
# per core.
workers = 2
worker_class = "gevent_pywsgi"
worker_connections = 1000

# gevent's server keeps a client's connection open for as long as the client
# does (gunicorn's `keepalive` does not apply to it). On SIGTERM such idle
# connections would hold a worker for the default 30 s; in-flight requests
# finish well within this.
graceful_timeout = 5

# Each worker builds its own app: discovery runs a background thread, and
# threads do not survive a fork, so no `preload_app`.
preload_app = False

# JSON access lines come from the app; gunicorn's own would be a second format.
accesslog = None
errorlog = "-"


def worker_exit(server, worker):
    """Stop the worker's background threads when it leaves."""
    app = getattr(worker, "wsgi", None)
    if app is not None:
        close_app(app)
