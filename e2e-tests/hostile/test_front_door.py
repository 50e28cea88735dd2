"""The gateway's front door, in the whole shop: what it refuses before routing.

Each request here is one no HTTP library would send, so it goes over a raw
socket; each must be refused with a problem, and the shop must go on
answering. gateway/tests/integration/test_front_door.py tests every case
in detail; this checks the shop runs the gateway with that front door.
"""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest

PROBLEM = "application/problem+json"

HOSTILE_HEADS = {
    "length-and-chunked": "POST /api/products HTTP/1.1\r\nContent-Length: 5\r\n"
    "Transfer-Encoding: chunked\r\n",
    "gzip-then-chunked": "POST /api/products HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n",
    "folded-header": "GET /api/products HTTP/1.1\r\nX-Folded: first\r\n second\r\n",
    "encoded-slash": "GET /api/products/..%2forders HTTP/1.1\r\n",
    "encoded-dots": "GET /api/products/%2e%2e/orders HTTP/1.1\r\n",
    "backslash": "GET /api/products/..%5Corders HTTP/1.1\r\n",
}


def send_raw(gateway: str, head: str, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Status, lower-cased headers and body of the answer to these bytes."""
    address = urlsplit(gateway)
    raw = (head + "Host: shop.test\r\nConnection: close\r\n\r\n").encode("latin-1") + body
    received = bytearray()
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(raw)
        while chunk := connection.recv(65536):
            received += chunk
    head_bytes, _, payload = bytes(received).partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:])
    }
    return int(lines[0].split()[1]), headers, payload


@pytest.mark.parametrize("head", HOSTILE_HEADS.values(), ids=HOSTILE_HEADS.keys())
def test_refuses_what_an_upstream_could_read_differently(shop, http, head):
    # A body only where the head announces one.
    sent = b"0\r\n\r\n" if head.startswith("POST") else b""
    status, headers, body = send_raw(shop.gateway, head, sent)
    assert status == 400, body[:300]
    assert headers["content-type"] == PROBLEM
    assert json.loads(body)["status"] == 400
    assert http.get(f"{shop.gateway}/api/products", timeout=5).status_code == 200


def test_refuses_oversized_headers_with_431(shop):
    status, headers, _ = send_raw(
        shop.gateway, "GET /healthz HTTP/1.1\r\nX-Large: " + "a" * 9000 + "\r\n"
    )
    assert (status, headers["content-type"]) == (431, PROBLEM)


def test_never_answers_a_request_with_a_token_from_the_shared_cache(shop, http, alice_token):
    # Anonymous first: the catalog's answer is now in the cache (or already was).
    assert http.get(f"{shop.gateway}/api/products", timeout=5).status_code == 200
    mine = http.get(
        f"{shop.gateway}/api/products",
        headers={"Authorization": f"Bearer {alice_token}"},
        timeout=5,
    )
    assert mine.status_code == 200
    assert mine.headers.get("X-Cache") is None
