import yaml

from polyshop_common.openapi import flask_operations, openapi_operations


def test_every_route_is_documented_and_every_documented_route_exists(app, contracts_dir):
    document = yaml.safe_load((contracts_dir / "openapi" / "orders.yaml").read_text())
    assert flask_operations(app) == openapi_operations(document)
