"""The front door, as production runs it: gunicorn with gateway/gunicorn.conf.py.

Requests no HTTP library would send (half a head, two framings, a folded
header, `..%2f` in a path) go over raw sockets. Upstreams are the test
helpers of upstream_server.py under service names of their own, registered
for this module only.
"""

from __future__ import annotations

import http.cookiejar
import json
import time
from collections.abc import Iterator

import pytest
import requests

from .served_gateway import Answer, ServedGateway, serve

PROBLEM = "application/problem+json"
HEAD_TIMEOUT_SECONDS = 5  # gunicorn.conf.py's keepalive

ROUTES_YAML = """
defaults: {auth: false, timeout_seconds: 3, retries: 1, rate_limit: null, cache_ttl_seconds: 0}
routes:
  - {prefix: /api/echo, service: door-echo}
  - {prefix: /api/cached, service: door-echo, cache_ttl_seconds: 30}
  - {prefix: /api/stream, service: door-stream}
  - {prefix: /api/broken, service: door-broken}
  - {prefix: /, service: door-echo}
"""


@pytest.fixture(scope="module")
def door(registry_url, upstream_factory, tmp_path_factory) -> Iterator[ServedGateway]:
    # Registered before the gateway starts, so each worker's first view of
    # the registry has them.
    upstreams = [
        upstream_factory("door-echo", "door-echo"),
        upstream_factory("door-stream", "door-stream"),
        upstream_factory("door-broken", "door-broken"),
    ]
    try:
        with serve(registry_url, tmp_path_factory.mktemp("front-door"), ROUTES_YAML) as served:
            yield served
    finally:
        for upstream in upstreams:  # no other module's test sees them
            upstream.registration.close()
            upstream.kill()


def request_bytes(method: str, target: str, *headers: str, body: bytes = b"") -> bytes:
    head = [f"{method} {target} HTTP/1.1", "Host: gateway.test", "Connection: close", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def assert_refused(answer: Answer, status: int = 400) -> dict:
    """A problem+json refusal in the gateway's words, never the parser's."""
    assert answer.status == status, answer
    assert answer.headers["content-type"] == PROBLEM
    assert answer.headers["x-request-id"]
    problem = json.loads(answer.body)
    assert problem["status"] == status
    text = answer.body.decode()
    for library_words in ("Invalid", "Unsupported", "unacceptable", "Error", "'"):
        assert library_words not in text
    return problem


def same_worker() -> requests.Session:
    """One kept-alive connection, so one worker (and its cache); no cookie jar."""
    session = requests.Session()
    session.trust_env = False
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return session


# -- the request head ------------------------------------------------------


def test_cuts_off_clients_that_send_half_a_head_and_answers_healthz_meanwhile(door):
    slow = [door.connect() for _ in range(50)]
    try:
        for connection in slow:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: gateway.test\r\nX-Slow: ")
        started = time.monotonic()
        for _ in range(6):  # new connections, so both workers
            assert requests.get(door.url + "/healthz", timeout=2).json() == {"status": "ok"}
        for connection in slow:
            connection.settimeout(HEAD_TIMEOUT_SECONDS + 5)
            assert connection.recv(1024) == b"", "the gateway closes a connection with half a head"
        assert time.monotonic() - started < HEAD_TIMEOUT_SECONDS + 5
    finally:
        for connection in slow:
            connection.close()


def test_refuses_a_request_line_over_the_limit_with_414(door):
    assert_refused(door.send(request_bytes("GET", "/api/echo/" + "a" * 5000)), 414)


@pytest.mark.parametrize(
    "headers",
    [
        [f"X-Many-{n}: {n}" for n in range(60)],
        ["X-Large: " + "a" * 9000],
    ],
    ids=["too-many", "too-large"],
)
def test_refuses_too_many_or_too_large_headers_with_431(door, headers):
    assert_refused(door.send(request_bytes("GET", "/api/echo", *headers)), 431)


def test_refuses_megabytes_of_headers_without_reading_them_all(door):
    # Fewer fields than any count limit, each a long line: about 5.7 MB.
    header_lines = b"".join(b"X-Filler-%d: %s\r\n" % (n, b"a" * 64000) for n in range(90))
    head = b"GET /api/echo HTTP/1.1\r\nHost: gateway.test\r\n" + header_lines
    sent = 0
    with door.connect() as connection:
        try:
            while sent < len(head):
                sent += connection.send(head[sent : sent + 65536])
            connection.sendall(b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed on us: what the test wants
        connection.settimeout(10)
        try:
            answer = connection.recv(65536)
        except ConnectionResetError:
            answer = b""
    assert not answer.startswith(b"HTTP/1.1 200")
    assert answer.startswith(b"HTTP/1.1 431") or sent < len(head)


# -- framing: one way to find where a body ends ------------------------------

SMUGGLING_SHAPES = {
    "length-and-chunked": ["Content-Length: 5", "Transfer-Encoding: chunked"],
    "length-and-gzip-chunked": ["Content-Length: 5", "Transfer-Encoding: gzip, chunked"],
    "gzip-chunked": ["Transfer-Encoding: gzip, chunked"],
    "identity-chunked": ["Transfer-Encoding: identity, chunked"],
    "unknown-coding": ["Transfer-Encoding: x-custom, chunked"],
    "gzip-alone": ["Transfer-Encoding: gzip"],
    "chunked-twice": ["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"],
    "two-lengths": ["Content-Length: 5", "Content-Length: 6"],
}


@pytest.mark.parametrize("headers", SMUGGLING_SHAPES.values(), ids=SMUGGLING_SHAPES.keys())
def test_refuses_a_body_framed_more_than_one_way_with_400(door, headers):
    body = b"5\r\nhello\r\n0\r\n\r\n"
    assert_refused(door.send(request_bytes("POST", "/api/echo", *headers, body=body)))


def test_refuses_chunked_in_http_1_0(door):
    raw = b"POST /api/echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    assert_refused(door.send(raw))


def test_refuses_an_obs_folded_header_instead_of_forwarding_it(door):
    raw = request_bytes("GET", "/api/echo", "X-Folded: first", " second")
    assert_refused(door.send(raw))


def test_forwards_a_plain_chunked_body(door):
    raw = request_bytes(
        "POST", "/api/echo", "Transfer-Encoding: chunked", body=b"5\r\nhello\r\n0\r\n\r\n"
    )
    answer = door.send(raw)
    assert answer.status == 200
    assert json.loads(answer.body)["body"] == "hello"


def test_answers_a_broken_chunk_with_400_not_500(door):
    raw = request_bytes("POST", "/api/echo", "Transfer-Encoding: chunked", body=b"zz\r\nhello\r\n")
    assert_refused(door.send(raw))


def test_still_refuses_a_chunked_body_over_one_mebibyte_with_413(door):
    def chunks(size: int):
        for start in range(0, size, 64 * 1024):
            yield b"x" * min(64 * 1024, size - start)

    fits = requests.post(door.url + "/api/echo", data=chunks(1024 * 1024), timeout=10)
    assert fits.status_code == 200
    too_large = requests.post(door.url + "/api/echo", data=chunks(1024 * 1024 + 1), timeout=10)
    assert too_large.status_code == 413
    assert too_large.headers["Content-Type"] == PROBLEM


# -- paths: routed and forwarded the same ------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/api/echo/..%2forders",
        "/api/echo/%2e%2e/orders",
        "/api/echo/%2E%2e",
        "/api/echo/./x",
        "/api/echo/../cached/counter",
        "/api/echo/a%2Fb",
        "/api/echo/a%5cb",
        "/api/echo/a%5Cb",
        "/api/echo/a\\b",
        "/shop/%2e%2e/api/echo",
        "/shop/..%5C..%5Cwindows",
    ],
)
def test_refuses_dot_segments_and_encoded_slashes_before_routing(door, target):
    assert_refused(door.send(request_bytes("GET", target)))


def test_forwards_paths_that_only_look_odd(door):
    answer = door.send(request_bytes("GET", "/api/echo/a.b/..c/caf%C3%A9?next=/../x"))
    assert answer.status == 200
    assert json.loads(answer.body)["path"] == "/echo/a.b/..c/caf%C3%A9?next=/../x"


# -- headers: what the upstream sees, what the client gets back --------------


def test_drops_hop_by_hop_headers_and_those_the_client_names_in_connection(door):
    headers = {
        "Connection": "keep-alive, X-Hop-Secret",
        "X-Hop-Secret": "for the gateway only",
        "Keep-Alive": "timeout=5",
        "TE": "trailers",
        "Trailer": "X-Checksum",
        "Proxy-Authorization": "Basic Zm9vOmJhcg==",
        "Proxy-Note": "for the gateway only",
        "X-End-To-End": "kept",
    }
    sent = requests.get(door.url + "/api/echo", headers=headers, timeout=5).json()["headers"]
    for name in headers:
        if name != "X-End-To-End":
            assert name.lower() not in sent
    assert sent["x-end-to-end"] == "kept"


def test_drops_hop_by_hop_headers_of_the_upstreams_answer(door):
    response = requests.get(door.url + "/api/echo/hop", timeout=5)
    assert response.status_code == 200
    for name in ("X-Hop-Secret", "Keep-Alive", "Proxy-Authenticate", "Proxy-Note", "Trailer"):
        assert name not in response.headers
    assert response.headers.get("Upgrade") is None
    assert "x-hop-secret" not in response.headers.get("Connection", "").lower()
    assert response.headers["X-End-To-End"] == "kept"


def test_sets_forwarded_headers_itself_whatever_the_client_claims(door):
    claims = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example",
    }
    sent = requests.get(door.url + "/api/echo", headers=claims, timeout=5).json()["headers"]
    assert sent["x-forwarded-for"] == "127.0.0.1"
    assert sent["x-forwarded-proto"] == "http"
    assert sent["x-forwarded-host"] == f"127.0.0.1:{door.port}"


# -- the response cache ------------------------------------------------------


def count(response: requests.Response) -> int:
    return response.json()["count"]


@pytest.mark.parametrize(
    "credentials",
    [{"Authorization": "Bearer someone-s-token"}, {"Cookie": "session=someone"}],
    ids=["authorization", "cookie"],
)
def test_never_hands_an_answer_made_for_credentials_to_anyone_else(door, credentials):
    path = f"{door.url}/api/cached/counter?for={next(iter(credentials))}"
    with same_worker() as client:
        theirs = client.get(path, headers=credentials, timeout=5)
        assert theirs.headers.get("X-Cache") is None
        again = client.get(path, headers=credentials, timeout=5)
        assert count(again) != count(theirs)  # never served from the cache either
        mine = client.get(path, timeout=5)
        assert (mine.headers["X-Cache"], count(mine) != count(again)) == ("MISS", True)
        assert client.get(path, timeout=5).headers["X-Cache"] == "HIT"  # cacheable without


@pytest.mark.parametrize("query", ["set_cookie=1", "private=1", "no_store=1", "vary=*"])
def test_never_stores_an_answer_meant_for_one_client(door, query):
    path = f"{door.url}/api/cached/counter?{query}"
    with same_worker() as client:
        first, second = client.get(path, timeout=5), client.get(path, timeout=5)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "MISS")
    assert count(second) != count(first)


def test_keeps_one_answer_per_value_of_the_headers_it_varies_on(door):
    path = f"{door.url}/api/cached/counter?vary=Accept-Language"
    with same_worker() as client:
        english = client.get(path, headers={"Accept-Language": "en"}, timeout=5)
        french = client.get(path, headers={"Accept-Language": "fr"}, timeout=5)
        english_again = client.get(path, headers={"Accept-Language": "en"}, timeout=5)
    assert (english.headers["X-Cache"], french.headers["X-Cache"]) == ("MISS", "MISS")
    assert count(french) != count(english)
    assert english_again.headers["X-Cache"] == "HIT"
    assert count(english_again) == count(english)


# -- error bodies --------------------------------------------------------------


# Garbage opens its instance's breaker, so it has an upstream of its own; a
# body cut short does not.
@pytest.mark.parametrize("path", ["/api/broken/garbage", "/api/echo/cut"])
def test_names_no_library_error_in_a_502_but_logs_it(door, path):
    response = requests.get(door.url + path, timeout=10)
    assert response.status_code == 502
    assert response.headers["Content-Type"] == PROBLEM
    for library_words in ("ProtocolError", "RemoteDisconnected", "IncompleteRead", "Error"):
        assert library_words not in response.text
    deadline = time.monotonic() + 5
    while "ProtocolError" not in door.log_text():
        assert time.monotonic() < deadline, "the log keeps the client library's error"
        time.sleep(0.05)


# -- what the worker change must keep ------------------------------------------


def test_streams_server_sent_events_as_they_come(door):
    with requests.get(door.url + "/api/stream/events", stream=True, timeout=10) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        lines = response.iter_lines()
        assert next(lines) == b"data: first"
        release_stream(door)
        assert [line for line in lines if line] == [b"data: second"]


def release_stream(door: ServedGateway) -> None:
    """Tell the stream upstream to send its second event (through the gateway)."""
    assert requests.get(door.url + "/api/stream/events/release", timeout=5).ok


# -- metrics: an operator's port, both workers summed ---------------------------


def test_metrics_are_served_on_their_own_port_summed_over_both_workers(door):
    route = 'http_route="/api/echo"'

    def echoed() -> float:
        text = requests.get(door.metrics_url, timeout=5).text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("http_server_request_duration_seconds_count{") and route in line
        )

    before = echoed()
    for _ in range(20):  # new connections, taken by whichever worker accepts first
        answer = requests.get(door.url + "/api/echo/x", headers={"Connection": "close"}, timeout=5)
        assert answer.status_code == 200
    assert echoed() - before == 20


def test_the_public_port_has_no_metrics(door):
    answer = requests.get(door.url + "/metrics", timeout=5)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == PROBLEM
