"""gunicorn settings for the payments service: polyshop_common.gunicorn_service's,
on the service's own address.

Start it from the repository root:

    .venv/bin/gunicorn -c services/payments/gunicorn.conf.py payments.wsgi:app

One worker process: the Kafka consumer, the outbox relay and the
registration are threads of the worker (started in post_worker_init,
stopped in worker_exit); a second worker would run a second relay and
consumer over the same database.
"""

from payments.config import Settings
from polyshop_common.gunicorn_service import *  # noqa: F403  (workers, threads, hooks, logs)
from polyshop_common.gunicorn_service import bind_for

bind = bind_for(Settings.from_env())
wsgi_app = "payments.wsgi:app"  # the app when none is named on the command line (the image)
