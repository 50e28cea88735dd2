"""The WSGI entry point: `gunicorn -c services/payments/gunicorn.conf.py payments.wsgi:app`."""

from payments.app import create_app

app = create_app()
