"""The WSGI entry point: `gunicorn -c services/orders/gunicorn.conf.py orders.wsgi:app`."""

from orders.app import create_app

app = create_app()
