"""gunicorn settings for the registry.

Start it from the repository root:

    .venv/bin/gunicorn -c registry/gunicorn.conf.py registry.wsgi:app

HOST and PORT are read through the registry's own settings, so they have the
same defaults and the same checks as everywhere else.
"""

# gevent workers: patch the standard library before anything imports
# threading or sockets, so the store's condition variable and the reaper's
# thread become greenlet-aware.
from gevent import monkey

monkey.patch_all()

from polyshop_common.settings import bind_address  # noqa: E402
from registry.config import Settings  # noqa: E402

_settings = Settings.from_env()

bind = bind_address(_settings.host, _settings.port)
wsgi_app = "registry.wsgi:app"  # the app when none is named on the command line (the image)

# Exactly one worker process. The registry keeps its state in memory, as
# Eureka does: several worker processes would each hold a different registry,
# and a client would see whichever one the kernel handed its connection to.
# Scaling out means more registries that replicate, not more workers.
workers = 1

# Greenlets, not threads, serve requests side by side: every long poll holds
# one for up to REGISTRY_MAX_WAIT_SECONDS, and a greenlet costs a few KiB
# where a thread costs a stack. Measured with 10,000 instances (make
# bench-shop), one gevent worker answered 2,000 heartbeats/s where 64 gthread
# threads topped out near 1,500/s: the GIL hand-offs between threads were
# most of the difference. Code in the registry must not block outside
# gevent's patched calls.
#
# gevent's own pywsgi worker stops accepting once `worker_connections`
# connections are open, however idle: a few thousand held connections would
# leave heartbeats waiting in the kernel's backlog. The registry's worker
# closes idle connections after `keepalive` seconds and answers connections
# past the cap at once with a 503 (registry/src/registry/server.py).
worker_class = "registry.server.RegistryWorker"
worker_connections = _settings.max_connections
keepalive = _settings.idle_timeout_seconds

# A short grace period on shutdown: long polls would otherwise hold the
# process for their whole wait. Cut off watchers simply poll again.
graceful_timeout = 5

# The app (and its reaper thread) are built in the worker, never in the
# master: no `preload_app`, threads do not survive a fork.
preload_app = False

# JSON logs come from the app; gunicorn's access log would be a second format.
accesslog = None
errorlog = "-"

# Several gunicorn processes run side by side on one machine (one per piece,
# more during the tests); they would all share gunicorn's one default control
# socket path. polyshop does not use `gunicornc`, so none is opened.
control_socket_disable = True
