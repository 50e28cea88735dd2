"""The route at `/`: the storefront's pages, forms, cookies and event streams."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest
import requests

PROBLEM = "application/problem+json"


@pytest.fixture
def storefront(gateway, start_upstream):
    upstream = start_upstream("storefront", "storefront")
    gateway.wait_for("storefront", 1)
    return upstream


def test_sends_a_page_request_with_its_path_and_query_unchanged(gateway, storefront):
    sent = gateway.get("/products/caf%C3%A9%20au%20lait?q=green+tea&page=2").json()
    assert sent["path"] == "/products/caf%C3%A9%20au%20lait?q=green+tea&page=2"
    assert gateway.get("/").json()["path"] == "/"


def test_passes_an_html_page_back_as_the_storefront_wrote_it(gateway, storefront):
    response = gateway.get("/shop/page")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.text == f"<!doctype html><title>{storefront.name}</title><h1>Shop</h1>"
    head = requests.head(gateway.url + "/shop/page", timeout=5)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["Content-Length"] == str(len(response.content))  # as a GET would get


def test_tells_the_storefront_no_api_prefix_whatever_the_client_claims(gateway, storefront):
    headers = gateway.get("/", headers={"X-Forwarded-Prefix": "/evil"}).json()["headers"]
    assert "x-forwarded-prefix" not in headers
    assert headers["x-forwarded-host"] == urlsplit(gateway.url).netloc


def test_forwards_a_form_post_with_its_body_unchanged(gateway, storefront):
    response = requests.post(
        gateway.url + "/cart", data={"sku": "TEA-SENCHA", "quantity": "2"}, timeout=5
    )
    sent = response.json()
    assert (sent["method"], sent["path"], sent["body"]) == (
        "POST",
        "/cart",
        "sku=TEA-SENCHA&quantity=2",
    )
    assert sent["headers"]["content-type"] == "application/x-www-form-urlencoded"


def test_passes_a_redirect_and_its_cookies_back_unchanged(gateway, storefront):
    response = requests.post(
        gateway.url + "/checkout/redirect?to=/orders/o-42",
        data={"sku": "TEA-SENCHA"},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/orders/o-42"
    assert response.raw.headers.getlist("Set-Cookie") == [
        "session=s3cr3t; HttpOnly; Path=/; SameSite=Lax",
        "flash=placed; Path=/",
    ]


def test_passes_the_clients_cookie_on_and_the_storefronts_back(gateway, storefront):
    response = gateway.get("/account", cookies={"session": "s3cr3t"})
    assert response.json()["headers"]["cookie"] == "session=s3cr3t"
    assert response.headers["Set-Cookie"] == f"instance={storefront.name}"


def test_streams_the_storefronts_server_sent_events_as_they_come(gateway, storefront):
    with gateway.get("/live/events", stream=True) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        lines = response.iter_lines()
        # The upstream holds the second event back until told: a buffered
        # body would never show the first one here.
        assert next(lines) == b"data: first"
        storefront.get("/live/events/release")
        assert [line for line in lines if line] == [b"data: second"]


@pytest.mark.parametrize(
    ("method", "path", "status", "content_type"),
    [
        ("GET", "/healthz", 200, "application/json"),
        ("GET", "/livez", 200, "application/json"),
        ("GET", "/readyz", 200, "application/json"),
        ("GET", "/gateway/status", 200, "application/json"),
        ("GET", "/api/unknown", 404, PROBLEM),
        ("GET", "/api", 404, PROBLEM),
        ("GET", "/gateway/other", 404, PROBLEM),
        ("GET", "/auth/token", 405, PROBLEM),
        ("POST", "/healthz", 405, PROBLEM),
        ("DELETE", "/gateway/status", 405, PROBLEM),
    ],
)
def test_keeps_its_own_paths_from_the_storefront(
    gateway, storefront, method, path, status, content_type
):
    response = requests.request(method, gateway.url + path, timeout=5)
    assert (response.status_code, response.headers["Content-Type"]) == (status, content_type)
    assert "Set-Cookie" not in response.headers  # the storefront's echo sets one


def test_issues_tokens_itself_with_a_storefront_at_slash(gateway, storefront):
    assert gateway.token()  # POST /auth/token: raises unless the gateway issued one


def raw_get(gateway, target: str) -> http.client.HTTPResponse:
    """A request line exactly as written: `requests` would tidy `..` away."""
    host, port = urlsplit(gateway.url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    connection.request("GET", target)
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


@pytest.mark.parametrize("target", ["/..", "/a/../b", "/a/%2e%2E/b", "/./a"])
def test_refuses_a_path_with_dot_segments_instead_of_sending_it_on(gateway, storefront, target):
    response = raw_get(gateway, target)
    assert (response.status, response.getheader("Content-Type")) == (400, PROBLEM)


def test_refuses_a_path_that_starts_with_two_slashes_instead_of_sending_it_on(gateway, storefront):
    # The server in front of the app here (the standard library's) already
    # merges leading slashes; gevent's, in production, passes them on, and
    # Werkzeug matches `//host/x` as `/host/x`. So the app is called as
    # gevent calls it.
    target = "//evil.example/x"
    response = gateway.app.test_client().get(
        environ_overrides={"PATH_INFO": target, "RAW_URI": target}
    )
    assert (response.status_code, response.content_type) == (400, PROBLEM)


def test_answers_503_problem_when_no_storefront_is_live(gateway):
    response = gateway.get("/")
    assert (response.status_code, response.headers["Content-Type"]) == (503, PROBLEM)
