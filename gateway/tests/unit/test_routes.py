from __future__ import annotations

import pytest

from gateway.config import DEFAULT_ROUTES_FILE
from gateway.routes import RateLimit, Route, RouteTable, load_routes, upstream_path


def test_ships_the_five_public_routes():
    table = load_routes(DEFAULT_ROUTES_FILE)
    services = {route.prefix: (route.service, route.auth) for route in table.routes}
    assert services == {
        "/api/products": ("catalog", False),
        "/api/orders": ("orders", True),
        "/api/stock": ("inventory", True),
        "/api/payments": ("payments", True),
        "/api/notifications": ("notifications", True),
    }


def test_a_route_takes_the_defaults_it_does_not_override():
    table = load_routes(DEFAULT_ROUTES_FILE)
    orders = table.match("/api/orders")
    assert (orders.timeout_seconds, orders.retries, orders.cache_ttl_seconds) == (5, 1, 0)
    assert orders.rate_limit == RateLimit(rate=20, burst=40)
    assert table.match("/api/products").cache_ttl_seconds == 5


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/orders", "orders"),
        ("/api/orders/7/details", "orders"),
        ("/api/ordersx", None),
        ("/api/orders-archive/1", "archive"),
        ("/api", None),
    ],
)
def test_matches_whole_path_segments_longest_prefix_first(path, service):
    table = RouteTable([Route("/api/orders", "orders"), Route("/api/orders-archive", "archive")])
    route = table.match(path)
    assert (route.service if route else None) == service


def test_refuses_a_prefix_outside_api(tmp_path):
    routes_file = tmp_path / "routes.yaml"
    routes_file.write_text("routes: [{prefix: /orders, service: orders}]")
    with pytest.raises(ValueError, match="/api/"):
        load_routes(routes_file)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"RAW_URI": "/api/orders/a%2Fb?x=1&y"}, "/orders/a%2Fb?x=1&y"),
        ({"REQUEST_URI": "/api/orders?x=1"}, "/orders?x=1"),
        ({}, "/orders/a%20b?x=1"),
    ],
)
def test_strips_api_and_keeps_path_and_query_as_sent(environ, expected):
    assert upstream_path(environ, "/api/orders/a b" if not environ else "", b"x=1") == expected
