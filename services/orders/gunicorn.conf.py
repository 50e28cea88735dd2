"""gunicorn settings for the orders service.

Start it from the repository root:

    .venv/bin/gunicorn -c services/orders/gunicorn.conf.py orders.wsgi:app
"""

from orders.config import Settings

# post_worker_init and worker_exit are gunicorn hooks: they start the
# background threads in the worker and stop them (deregistering first) on exit.
from polyshop_common.service import bind_address, post_worker_init, worker_exit  # noqa: F401

_settings = Settings.from_env()

bind = bind_address(_settings.host, _settings.port)

# One worker process: the Kafka consumer, the outbox relay and the
# registration are threads of the worker (started in post_worker_init,
# stopped in worker_exit). More worker processes would each run a relay and
# a consumer of their own over the same database; more capacity means more
# instances on other ports, each registering itself. Threads serve requests
# side by side, and a request mostly waits on SQLite or the catalog.
workers = 1
worker_class = "gthread"
threads = 8

# The app and its threads are built in the worker, never in the master.
preload_app = False
graceful_timeout = 10

# JSON logs come from the app; gunicorn's access log would be a second format.
accesslog = None
errorlog = "-"
control_socket_disable = True
