"""The WSGI entry point: `gunicorn -c registry/gunicorn.conf.py registry.wsgi:app`."""

from registry.app import create_app

app = create_app()
