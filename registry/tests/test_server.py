"""The registry under gunicorn, over real sockets: many held connections must
not keep heartbeats waiting, idle ones are closed, and past the caps the
answer is an immediate 503."""

from __future__ import annotations

import selectors
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
import requests

from polyshop_dev.pieces import free_port, registry_piece
from polyshop_dev.stack import PieceFailed, Stack

from .served_registry import ServedRegistry, allow_open_files, serve
from .tokens import TOKEN, bearer

HELD = 2000  # connections a test holds open at once
PROMPT_SECONDS = 2.0  # what "answered promptly" means here, with room for a busy machine
REGISTRATION = {"instance_id": "catalog-a", "host": "127.0.0.1", "port": 5001}


@pytest.fixture(scope="module", autouse=True)
def enough_open_files() -> None:
    allow_open_files(3 * HELD)


# One registry per module and settings: starting gunicorn costs a second or two.
@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Iterator[ServedRegistry]:
    with serve(tmp_path_factory.mktemp("registry")) as served:
        yield served


@contextmanager
def held_connections(served: ServedRegistry, count: int, send: bytes = b"") -> Iterator[list]:
    """`count` connections that send `send` (or nothing) and then only wait."""
    with ExitStack() as stack:
        connections = []
        for _ in range(count):
            connection = stack.enter_context(served.connect())
            if send:
                connection.sendall(send)
            connections.append(connection)
        yield connections


def register(served: ServedRegistry, credential: str = "shop", **body) -> requests.Response:
    url = f"{served.url}/v1/services/catalog/instances"
    return requests.post(url, json={**REGISTRATION, **body}, headers=bearer(credential), timeout=10)


def assert_writes_answered_promptly(served: ServedRegistry) -> None:
    """A registration and heartbeats, each on a new connection, each answered at once."""
    heartbeat = f"{served.url}/v1/services/catalog/instances/catalog-a/heartbeat"
    for attempt in range(10):
        began = time.monotonic()
        if attempt == 0:
            response = register(served)
            expected = 201
        else:
            response = requests.put(heartbeat, headers=bearer("shop"), timeout=10)
            expected = 200
        elapsed = time.monotonic() - began
        assert response.status_code == expected
        assert elapsed < PROMPT_SECONDS, f"answered after {elapsed:.1f} s"


def answers(connections: list[socket.socket], expected: int, within: float) -> dict:
    """Wait until `expected` connections have answered; their first bytes by socket."""
    received: dict[socket.socket, bytes] = {}
    with selectors.DefaultSelector() as selector:
        for connection in connections:
            selector.register(connection, selectors.EVENT_READ)
        deadline = time.monotonic() + within
        while len(received) < expected:
            left = deadline - time.monotonic()
            assert left > 0, f"{len(received)} of {expected} answered in {within} s"
            for key, _ in selector.select(left):
                received[key.fileobj] = key.fileobj.recv(65536)
                selector.unregister(key.fileobj)
    return received


def index_of(served: ServedRegistry) -> int:
    response = requests.get(f"{served.url}/v1/services", timeout=10)
    return int(response.headers["X-Registry-Index"])


def test_idle_connections_do_not_keep_heartbeats_waiting(registry):
    assert register(registry).status_code == 201

    with held_connections(registry, HELD):
        assert_writes_answered_promptly(registry)


def test_long_polls_past_the_watch_cap_are_refused_at_once_and_writes_still_answered(registry):
    assert register(registry).status_code == 201
    index = index_of(registry)
    watch = f"GET /v1/services?index={index}&wait=60 HTTP/1.1\r\nHost: registry\r\n\r\n"

    with held_connections(registry, HELD, watch.encode()) as watchers:
        refused = answers(watchers, HELD - 1000, within=10)  # 1000: REGISTRY_MAX_WATCHES
        for head in refused.values():
            assert head.startswith(b"HTTP/1.1 503 ")
            assert b"Retry-After: 2" in head
            assert b"application/problem+json" in head
        assert_writes_answered_promptly(registry)

        waiting = [watcher for watcher in watchers if watcher not in refused]
        assert register(registry, port=6001).status_code == 201  # a change: wakes them all
        woken = answers(waiting, len(waiting), within=10)
        assert all(head.startswith(b"HTTP/1.1 200 ") for head in woken.values())


def test_the_long_poll_of_a_watcher_gone_does_not_hold_up_the_registrys_stop(tmp_path):
    # As when the services stop before the registry: their long polls stay,
    # and the registry learns that their end has closed only when it answers.
    with serve(tmp_path) as registry:
        watch = f"GET /v1/services?index={index_of(registry)}&wait=60 HTTP/1.1\r\nHost: r\r\n\r\n"
        with held_connections(registry, 1, watch.encode()):
            wait_until_watching(registry, 1)
        began = time.monotonic()
        code = registry.stop()
        stopped_after = time.monotonic() - began
    assert code == 0
    # gunicorn's graceful_timeout is 5 s: a watcher that held it would be killed then.
    assert stopped_after < 3, f"the registry took {stopped_after:.1f} s to stop"


def test_connections_past_the_cap_are_answered_503_at_once(tmp_path, wait_until):
    settings = {"REGISTRY_MAX_CONNECTIONS": "20", "REGISTRY_MAX_WATCHES": "5"}
    with serve(tmp_path, **settings) as registry, held_connections(registry, 20):
        began = time.monotonic()
        response = requests.get(f"{registry.url}/v1/services", timeout=10)

        assert time.monotonic() - began < PROMPT_SECONDS
        assert response.status_code == 503
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.headers["Retry-After"] == "2"
        assert response.json()["title"] == "Too many connections"

    # One below the cap leaves room for one more. The start-up probe's own
    # connection, closed by then, counts until the server has read its end:
    # a moment, longer on a busy machine.
    with serve(tmp_path, **settings) as registry, held_connections(registry, 19):
        url = f"{registry.url}/v1/services"
        wait_until(lambda: requests.get(url, timeout=10).status_code == 200, timeout=10)


def closed_within(connection: socket.socket, seconds: float) -> bool:
    """True when the registry closes the connection before `seconds` pass."""
    connection.settimeout(seconds)
    try:
        while connection.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


@pytest.fixture(scope="module")
def impatient_registry(tmp_path_factory) -> Iterator[ServedRegistry]:
    folder = tmp_path_factory.mktemp("impatient")
    with serve(folder, REGISTRY_IDLE_TIMEOUT_SECONDS="1") as served:
        yield served


def test_a_connection_that_sends_nothing_is_closed_after_the_idle_timeout(impatient_registry):
    with impatient_registry.connect() as connection:
        assert closed_within(connection, 5)


def test_a_kept_alive_connection_is_closed_after_the_idle_timeout(impatient_registry):
    with impatient_registry.connect() as connection:
        connection.sendall(b"GET /readyz HTTP/1.1\r\nHost: registry\r\n\r\n")
        assert connection.recv(65536).startswith(b"HTTP/1.1 200 ")

        assert closed_within(connection, 5)


def test_a_request_whose_body_stalls_is_closed_after_the_idle_timeout(impatient_registry):
    head = (
        "POST /v1/services/catalog/instances HTTP/1.1\r\nHost: registry\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n"
        f"Authorization: Bearer {TOKEN}\r\n\r\n"
    )
    with impatient_registry.connect() as connection:
        connection.sendall(head.encode() + b'{"host": ')

        assert closed_within(connection, 5)


def test_a_request_that_is_not_http_is_answered_with_a_problem(impatient_registry):
    with impatient_registry.connect() as connection:
        connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer = connection.recv(65536)

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"Content-Type: application/problem+json" in answer
    assert answer.endswith(b'"detail": "The request is not valid HTTP/1.1."}')


def test_a_long_poll_outlasts_the_idle_timeout(impatient_registry):
    index = index_of(impatient_registry)

    url = f"{impatient_registry.url}/v1/services?index={index}&wait=2"

    began = time.monotonic()
    response = requests.get(url, timeout=10)

    assert response.status_code == 200
    assert time.monotonic() - began >= 2


def test_another_credential_cannot_take_over_an_instance(registry):
    assert register(registry).status_code == 201

    takeover = register(registry, credential="rival", host="10.9.9.9")
    moved = register(registry, credential="shop", host="169.254.169.254")
    instance = requests.get(f"{registry.url}/v1/services/catalog", timeout=10).json()

    assert takeover.status_code == 403
    assert moved.status_code == 400
    assert [i["host"] for i in instance["instances"]] == ["127.0.0.1"]


def test_refuses_to_start_without_a_credentials_file(tmp_path):
    env = {"REGISTRY_CREDENTIALS_FILE": "", "REGISTRY_TOKEN": "t" * 32}
    with Stack(tmp_path) as stack, pytest.raises(PieceFailed, match="exited while starting"):
        stack.start(registry_piece(free_port(), env))

    assert "REGISTRY_CREDENTIALS_FILE" in (tmp_path / "registry.log").read_text()


def test_a_change_that_wakes_many_watchers_does_not_keep_heartbeats_waiting(registry):
    # 500 instances: an answer of some 130 KB that takes milliseconds to build.
    with requests.Session() as session:
        for number in range(500):
            body = {"instance_id": f"orders-{number}", "host": "127.0.0.1", "port": 5002}
            url = f"{registry.url}/v1/services/orders/instances"
            assert session.post(url, json=body, headers=bearer("shop")).status_code == 201
    assert register(registry).status_code == 201
    index = index_of(registry)
    watch = f"GET /v1/services/orders?index={index}&wait=60 HTTP/1.1\r\nHost: registry\r\n\r\n"

    with held_connections(registry, 900, watch.encode()) as watchers:
        wait_until_watching(registry, 900)
        url = f"{registry.url}/v1/services/orders/instances"
        change = {"instance_id": "orders-new", "host": "127.0.0.1", "port": 5002}
        assert requests.post(url, json=change, headers=bearer("shop"), timeout=10).ok

        assert_writes_answered_promptly(registry)
        woken = answers(watchers, len(watchers), within=30)
        assert all(head.startswith(b"HTTP/1.1 200 ") for head in woken.values())


def wait_until_watching(served: ServedRegistry, count: int) -> None:
    """Until the dashboard shows `count` long polls waiting."""
    deadline = time.monotonic() + 10
    while f"{count} watching" not in requests.get(served.url, timeout=10).text:
        assert time.monotonic() < deadline, f"fewer than {count} watchers after 10 s"
        time.sleep(0.05)


def test_a_reader_that_accepts_gzip_gets_the_registry_gzipped_over_the_wire(registry):
    with requests.Session() as session:
        for number in range(20):
            body = {"instance_id": f"payments-{number}", "host": "127.0.0.1", "port": 5003}
            url = f"{registry.url}/v1/services/payments/instances"
            assert session.post(url, json=body, headers=bearer("shop")).status_code == 201
        url = f"{registry.url}/v1/services/payments"
        plain = session.get(url, headers={"Accept-Encoding": "identity"}, timeout=10)
        zipped = session.get(url, timeout=10)  # requests asks for gzip itself, and decodes it

    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert int(zipped.headers["Content-Length"]) < len(plain.content) / 3
    assert zipped.headers["X-Registry-Index"] == plain.headers["X-Registry-Index"]
    listed = [{i["instance_id"] for i in r.json()["instances"]} for r in (plain, zipped)]
    assert listed[0] == listed[1] == {f"payments-{number}" for number in range(20)}
