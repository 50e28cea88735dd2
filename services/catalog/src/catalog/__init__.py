"""polyshop's catalog: products and their prices, public to read.

The app is built by `create_app` in `catalog/app.py`: read it first, every other
module is reached from it by name. This package file imports nothing, so
the gunicorn master reads `catalog.config` without importing the app, which only
its worker needs (libs/python/src/polyshop_common/gunicorn_service.py).
"""
