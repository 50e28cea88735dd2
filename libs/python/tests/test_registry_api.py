"""A client given several registries (REGISTRY_URL with commas) goes to the
next when one does not answer or fails, and stays with the one that
answered; Node.js's client does the same (libs/node/test/unit/api.test.js)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from polyshop_common.registry import RegistryApi, RegistryError


class Registry:
    """Answers every request with `status` (200: an empty registry), and counts them."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.hits = 0
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                registry.hits += 1
                body = b'{"services":{}}' if registry.status == 200 else b'{"title":"No"}'
                self.send_response(registry.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Registry-Index", "7")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def registries() -> Iterator[list[Registry]]:
    started = [Registry(), Registry()]
    yield started
    for registry in started:
        registry.close()


def nowhere() -> str:
    """An address where nothing listens: a registry that is down."""
    gone = Registry()
    gone.close()
    return gone.url


def test_a_registry_that_does_not_answer_is_passed_over_and_the_next_is_kept(registries):
    first, second = registries
    api = RegistryApi(f"{nowhere()},{first.url}")
    assert api.list_services().index == 7
    assert api.base_url == first.url
    api.list_services()
    assert first.hits == 2 and second.hits == 0


def test_a_failing_registry_is_passed_over(registries):
    first, second = registries
    first.status = 503
    api = RegistryApi(f"{first.url},{second.url}")
    api.list_services()
    assert (first.hits, second.hits, api.base_url) == (1, 1, second.url)


def test_a_refusal_is_the_answer_and_no_other_registry_is_asked(registries):
    first, second = registries
    first.status = 404
    api = RegistryApi(f"{first.url},{second.url}")
    with pytest.raises(RegistryError) as refused:
        api.list_services()
    assert (refused.value.status, second.hits) == (404, 0)


def test_when_every_registry_is_down_the_last_ones_error_is_raised():
    api = RegistryApi(f"{nowhere()},{nowhere()}", timeout=1)
    with pytest.raises(requests.ConnectionError):
        api.list_services()


def test_the_last_failing_registry_gives_its_error(registries):
    first, second = registries
    first.status = second.status = 503
    api = RegistryApi(f"{first.url}/,{second.url}")
    with pytest.raises(RegistryError) as failed:
        api.list_services()
    assert (failed.value.status, first.hits, second.hits) == (503, 1, 1)


def test_a_long_poll_is_asked_only_of_the_registry_that_gave_its_index(registries):
    first, _ = registries
    api = RegistryApi(f"{nowhere()},{first.url}", timeout=1)
    with pytest.raises(requests.ConnectionError):
        api.changes_since(7, wait=1)
    assert first.hits == 0
