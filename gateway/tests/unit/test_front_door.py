from __future__ import annotations

import json

import pytest
from gunicorn.http.errors import (
    InvalidHeader,
    InvalidResponseHeader,
    LimitRequestHeaders,
    LimitRequestLine,
    ObsoleteFolding,
    UnsupportedTransferCoding,
)

from gateway.front_door import path_refusal, raw_path
from gateway.proxy import connection_scoped
from gateway.worker import problem_bytes, refusal


@pytest.mark.parametrize(
    "path",
    [
        "/api/orders/..",
        "/api/orders/../payments",
        "/api/orders/./1",
        "/api/orders/%2e%2e/payments",
        "/api/orders/%2E./payments",
        "/api/orders/.%2E",
        "/api/orders/..%2fpayments",
        "/api/orders/a%2Fb",
        "/api/orders/a%5cb",
        "/api/orders/a%5Cb",
        "/api/orders/a\\b",
        "/%2e%2e/etc/passwd",
    ],
)
def test_refuses_a_path_an_upstream_could_resolve_or_split_differently(path):
    assert path_refusal(path)


@pytest.mark.parametrize(
    "path",
    ["/", "/api/orders/1", "/a.b/..c/...", "/caf%C3%A9", "/a%252e%252e/b", "/orders/", "/a//b"],
)
def test_lets_odd_but_harmless_paths_through(path):
    assert path_refusal(path) is None


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"RAW_URI": "/api/a%2Fb?x=/../"}, "/api/a%2Fb"),
        ({"REQUEST_URI": "/api/a?x=1"}, "/api/a"),
        ({"RAW_URI": "http://host.example/api/%2e%2e?x"}, "/api/%2e%2e"),
        ({}, "/decoded/path"),
    ],
)
def test_checks_the_path_as_the_client_wrote_it(environ, expected):
    assert raw_path(environ, "/decoded/path") == expected


def test_drops_hop_by_hop_headers_and_those_connection_names():
    scoped = connection_scoped(["keep-alive, X-Secret", "x-other"])
    assert [name for name in ("Keep-Alive", "TE", "Upgrade", "Proxy-Foo") if scoped(name)] == [
        "Keep-Alive",
        "TE",
        "Upgrade",
        "Proxy-Foo",
    ]
    assert scoped("x-secret") and scoped("X-Other")
    assert not scoped("Authorization") and not scoped("X-Request-ID")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (LimitRequestLine(9000, 4094), 414),
        (LimitRequestHeaders("limit request headers fields"), 431),
        (ObsoleteFolding("X-FOLDED"), 400),
        (InvalidHeader("CONTENT-LENGTH"), 400),
        (UnsupportedTransferCoding("gzip"), 400),
        (InvalidResponseHeader("X-BAD"), 500),
        (RuntimeError("boom"), 500),
    ],
)
def test_answers_parser_refusals_in_its_own_words(error, status):
    answer, reason, detail = refusal(error)
    head, _, body = problem_bytes(answer, reason, detail).partition(b"\r\n\r\n")
    assert answer == status
    assert head.startswith(f"HTTP/1.1 {status} ".encode())
    assert b"Content-Type: application/problem+json" in head
    problem = json.loads(body)
    assert problem["status"] == status
    assert str(error) not in body.decode() and type(error).__name__ not in body.decode()
