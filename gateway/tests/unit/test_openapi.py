from __future__ import annotations

import yaml

from gateway import compose
from gateway.app import close_app, create_app
from gateway.config import Config
from polyshop_common.openapi import flask_operations, openapi_operations

# Answered by the edge, not by Flask: the composed view (edge.py). What the
# edge proxies is the services' own to document.
COMPOSED = ("GET", compose.TEMPLATE.replace("<", "{").replace(">", "}"))


class NoRegistry:
    """Discovery that knows no instance: the app is built, never called."""

    def wait_ready(self, timeout: float) -> bool:
        return True

    def instances(self, service: str) -> list:
        return []

    def close(self) -> None:
        pass


def test_every_own_endpoint_is_documented_and_every_documented_one_exists(contracts_dir):
    app = create_app(Config(), discovery=NoRegistry())
    try:
        own = {*flask_operations(app), COMPOSED}
    finally:
        close_app(app)
    document = yaml.safe_load((contracts_dir / "openapi" / "gateway.yaml").read_text())
    assert own == openapi_operations(document)
