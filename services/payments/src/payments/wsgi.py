"""The WSGI entry point: `gunicorn -c services/payments/gunicorn.conf.py payments.wsgi:app`."""

from payments import create_app

app = create_app()
