"""polyshop's orders service: orders, their state machine, and a transactional outbox.

The app is built by `create_app` in `orders/app.py`: read it first, every other
module is reached from it by name. This package file imports nothing, so
the gunicorn master reads `orders.config` without importing the app, which only
its worker needs (libs/python/src/polyshop_common/gunicorn_service.py).
"""
