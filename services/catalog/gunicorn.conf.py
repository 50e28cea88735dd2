"""gunicorn settings for the catalog: polyshop_common.gunicorn_service's, on
the catalog's own address.

Start it from the repository root:

    .venv/bin/gunicorn -c services/catalog/gunicorn.conf.py catalog.wsgi:app

One worker process: the registration thread lives in the worker (it starts
in post_worker_init and deregisters in worker_exit). More capacity means
more instances on other ports, each registering itself.
"""

from catalog.config import Settings
from polyshop_common.gunicorn_service import *  # noqa: F403  (workers, threads, hooks, logs)
from polyshop_common.gunicorn_service import bind_for

bind = bind_for(Settings.from_env())
wsgi_app = "catalog.wsgi:app"  # the app when none is named on the command line (the image)
