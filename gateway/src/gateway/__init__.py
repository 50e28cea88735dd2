"""polyshop's API gateway: the one public door of the system.

The app is built by `create_app` in `gateway/app.py`: read it first, every other
module is reached from it by name. This package file imports nothing, so
the gunicorn master reads `gateway.config` without importing the app, which only
its worker needs (libs/python/src/polyshop_common/gunicorn_service.py).
"""
