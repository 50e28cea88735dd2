"""Comparing a Flask app's routes with its OpenAPI document, both ways.

A service's tests load `contracts/openapi/SERVICE.yaml` and assert that
`flask_operations(app) == openapi_operations(document)`: a route nobody
documented, or a documented route nobody serves, fails the build.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}  # Flask adds these to every route
_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def flask_operations(app: Flask) -> set[tuple[str, str]]:
    """(METHOD, /path/{param}) for every route of the app, static files excepted."""
    operations = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        operations |= {(method, path) for method in rule.methods - IMPLICIT_METHODS}
    return operations


def openapi_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document.get("paths", {}).items()
        for method in item
        if method in HTTP_METHODS
    }
