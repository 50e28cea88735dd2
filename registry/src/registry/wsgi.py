"""The WSGI entry point: `gunicorn -c registry/gunicorn.conf.py registry.wsgi:app`."""

from registry import create_app

app = create_app()
