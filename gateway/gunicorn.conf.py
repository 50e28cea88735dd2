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

import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

# Each worker keeps its metrics in files here, which the master sums
# (prometheus-client's multiprocess mode). Set before anything imports
# prometheus_client: it reads the variable then. A fresh folder per start,
# so no value of an earlier run is counted again.
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir = tempfile.mkdtemp(prefix="gateway-")
else:
    _metrics_dir = None

from gateway.config import Config  # noqa: E402
from polyshop_common.metrics_port import process_gone, serve_on  # noqa: E402
from polyshop_common.settings import bind_address  # noqa: E402

_config = Config.from_env()

bind = bind_address(_config.host, _config.port)
wsgi_app = "gateway.wsgi:app"  # the app when none is named on the command line (the image)

# A gateway mostly waits on upstreams. gevent runs each request in a
# greenlet, so an upstream call waits without holding a thread (ADR 0004).
# The worker is gunicorn's own gevent worker (not `gevent_pywsgi`, gevent's
# WSGI server, a few per cent faster): gunicorn's strict parser reads every
# request head, with the limits and the timeout below. `GatewayWorker`
# answers what it refuses as problem+json. One worker per core.
workers = 2
worker_class = "gateway.worker.GatewayWorker"
worker_connections = 1000

# The request head. A longer line is refused with 414; more or larger header
# fields with 431 (a head is at most about 50 x 8 KiB, read as it comes). A
# folded header, `Content-Length` with `Transfer-Encoding`, or a coding after
# `chunked` is refused with 400; front_door.py refuses what else could reach
# an upstream framed or routed differently.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

# Seconds a connection may take to send a whole request head, the first
# included, and stay idle between two requests. Without it a client that
# sends half a head holds its connection open for ever (slowloris). A load
# balancer in front must close idle connections to the gateway sooner.
keepalive = 5

# No client is a trusted proxy: gunicorn takes the scheme (X-Forwarded-Proto)
# and overriding variables (a SCRIPT_NAME header) only from these addresses,
# by default loopback. The gateway is the first hop; it sets X-Forwarded-*
# itself (proxy.py).
forwarded_allow_ips = ""

# In-flight requests finish well within this on SIGTERM; idle kept-alive
# connections are closed by `keepalive` anyway.
graceful_timeout = 5

# No runtime control socket: nothing here uses one, and several gunicorns on
# one machine (the registry's, a test's) would share its default path.
control_socket_disable = True

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
        from gateway.app import close_app  # the app is the worker's, never the master's

        close_app(app)


def when_ready(server):
    """GET /metrics on METRICS_PORT, summed over the workers: served by the
    master, which outlives every worker, on a port nobody routes to."""
    serve_on(_config.host, _config.metrics_port)
    server.log.info("metrics on port %d", _config.metrics_port)


def child_exit(server, worker):
    process_gone(worker.pid)


def on_exit(server):
    if _metrics_dir is not None:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
