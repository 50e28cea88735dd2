"""polyshop's payments service: authorises (or declines) what inventory reserved.

The app is built by `create_app` in `payments/app.py`: read it first, every other
module is reached from it by name. This package file imports nothing, so
the gunicorn master reads `payments.config` without importing the app, which only
its worker needs (libs/python/src/polyshop_common/gunicorn_service.py).
"""
