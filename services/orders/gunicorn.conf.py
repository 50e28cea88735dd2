"""gunicorn settings for the orders service: polyshop_common.gunicorn_service's,
on the service's own address.

Start it from the repository root:

    .venv/bin/gunicorn -c services/orders/gunicorn.conf.py orders.wsgi:app

One worker process: the Kafka consumer, the outbox relay and the
registration are threads of the worker (started in post_worker_init,
stopped in worker_exit). Threads serve requests side by side, and a request
mostly waits on SQLite or the catalog.
"""

from orders.config import Settings
from polyshop_common.gunicorn_service import *  # noqa: F403  (workers, threads, hooks, logs)
from polyshop_common.gunicorn_service import bind_for

bind = bind_for(Settings.from_env())
wsgi_app = "orders.wsgi:app"  # the app when none is named on the command line (the image)
