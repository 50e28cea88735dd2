"""polyshop's service registry: leases (as Eureka's) and long-poll watches (as Consul's).

The app is built by `create_app` in `registry/app.py`: read it first, every other
module is reached from it by name. This package file imports nothing, so
the gunicorn master reads `registry.config` without importing the app, which only
its worker needs (libs/python/src/polyshop_common/gunicorn_service.py).
"""
