"""The WSGI entry point: `gunicorn -c services/catalog/gunicorn.conf.py catalog.wsgi:app`."""

from catalog.app import create_app

app = create_app()
