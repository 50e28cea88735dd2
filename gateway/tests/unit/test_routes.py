from __future__ import annotations

import pytest

from gateway.config import DEFAULT_ROUTES_FILE
from gateway.routes import RateLimit, Route, RouteTable, load_routes, upstream_path
from polyshop_common.problems import Problem


def test_ships_the_five_public_routes_and_the_storefront():
    table = load_routes(DEFAULT_ROUTES_FILE)
    services = {route.prefix: (route.service, route.auth) for route in table.routes}
    assert services == {
        "/api/products": ("catalog", False),
        "/api/orders": ("orders", True),
        "/api/stock": ("inventory", True),
        "/api/payments": ("payments", True),
        "/api/notifications": ("notifications", True),
        "/": ("storefront", False),
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


def test_gives_the_storefront_a_longer_timeout_for_its_event_streams():
    storefront = load_routes(DEFAULT_ROUTES_FILE).match("/orders/42")
    assert (storefront.service, storefront.timeout_seconds) == ("storefront", 15)
    assert storefront.rate_limit == RateLimit(rate=50, burst=100)


STOREFRONT_TABLE = RouteTable(
    [Route("/api/orders", "orders"), Route("/", "storefront"), Route("/shop", "shop")]
)


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/", "storefront"),
        ("/orders/42", "storefront"),
        ("/assets/app.js", "storefront"),
        ("/apix", "storefront"),
        ("/healthzz", "storefront"),
        ("/shop", "shop"),
        ("/shop/cart", "shop"),
        ("/shopping", "storefront"),
        ("/api/orders/42", "orders"),
        ("/api/unknown", None),
        ("/api", None),
        ("/healthz", None),
        ("/livez", None),
        ("/readyz", None),
        ("/auth/token", None),
        ("/gateway/status", None),
        ("/gateway", None),
    ],
)
def test_a_route_at_slash_catches_only_what_nothing_else_takes(path, service):
    route = STOREFRONT_TABLE.match(path)
    assert (route.service if route else None) == service


def test_a_route_outside_api_keeps_the_path_and_sets_no_forwarded_prefix():
    storefront = STOREFRONT_TABLE.match("/orders/42")
    assert (storefront.prefix, storefront.strips) == ("/", "")
    assert STOREFRONT_TABLE.match("/api/orders").strips == "/api"


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("/api", "/api/NAME"),
        ("/healthz", "answers itself"),
        ("/auth", "answers itself"),
        ("/gateway/pages", "answers itself"),
        ("orders", "not a path"),
        ("//evil", "not a path"),
        ("/shop/../api", "not a path"),
    ],
)
def test_refuses_a_prefix_the_gateway_keeps_or_that_is_no_plain_path(tmp_path, prefix, message):
    routes_file = tmp_path / "routes.yaml"
    routes_file.write_text(f"routes: [{{prefix: '{prefix}', service: shop}}]")
    with pytest.raises(ValueError, match=message):
        load_routes(routes_file)


def test_reads_a_prefix_outside_api(tmp_path):
    routes_file = tmp_path / "routes.yaml"
    routes_file.write_text("routes: [{prefix: /shop/, service: shop}, {prefix: /, service: web}]")
    assert [route.prefix for route in load_routes(routes_file).routes] == ["/shop", "/"]


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


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"RAW_URI": "/orders/a%2Fb?x=1&y"}, "/orders/a%2Fb?x=1&y"),
        ({"RAW_URI": "/?x=1"}, "/?x=1"),
        ({"RAW_URI": "/api/orders?x=1"}, "/api/orders?x=1"),
        ({"REQUEST_URI": "/orders?x=1"}, "/orders?x=1"),
        ({"RAW_URI": "http://other.example/orders?x=1"}, "/orders?x=1"),
        ({}, "/orders?x=1"),
    ],
)
def test_keeps_path_and_query_as_sent_outside_api(environ, expected):
    assert upstream_path(environ, "/orders", b"x=1", strip="") == expected


@pytest.mark.parametrize(
    "raw", ["//evil.example/x", "/..", "/a/../b", "/./a", "/a/%2e%2E/b", "/a/%2E?x=1"]
)
def test_refuses_to_send_a_path_an_upstream_could_misread(raw):
    with pytest.raises(Problem) as refused:
        upstream_path({"RAW_URI": raw}, "/", b"", strip="")
    assert refused.value.status == 400


@pytest.mark.parametrize("raw", ["/a//b", "/orders/", "/a.b/..c/...?x=/../"])
def test_sends_other_odd_but_harmless_paths_unchanged(raw):
    assert upstream_path({"RAW_URI": raw}, "/", b"", strip="") == raw
