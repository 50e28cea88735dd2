"""Long polls over HTTP: `?index=N&wait=S` holds the answer until the index moves."""

from __future__ import annotations

import threading

import pytest

from registry.app import create_app
from registry.models import Limits, Registration
from registry.store import Store


def index_of(response) -> int:
    return int(response.headers["X-Registry-Index"])


@pytest.mark.parametrize("path", ["/v1/services", "/v1/services/catalog"])
def test_long_poll_answers_when_a_change_happens(app, client, store, register, wait_until, path):
    index = index_of(client.get(path))
    answers = []
    watcher = threading.Thread(
        target=lambda: answers.append(app.test_client().get(f"{path}?index={index}&wait=5s"))
    )
    watcher.start()
    wait_until(lambda: store.watchers == 1)

    register("catalog")

    watcher.join(timeout=5)
    [response] = answers
    assert response.status_code == 200
    assert index_of(response) == index + 1
    assert "catalog-127.0.0.1-5001" in response.get_data(as_text=True)


def test_long_poll_times_out_with_the_same_index(client):
    index = index_of(client.get("/v1/services"))

    response = client.get(f"/v1/services?index={index}&wait=0.05")

    assert response.status_code == 200
    assert index_of(response) == index


def test_long_poll_answers_at_once_for_an_index_greater_than_current(client, settings):
    # The watcher's index comes from before a restart: its view is stale.
    index = index_of(client.get("/v1/services"))

    response = client.get(f"/v1/services?index={index + 1000}&wait={settings.max_wait_seconds}")

    assert index_of(response) == index


def test_read_without_index_answers_at_once(client, settings):
    response = client.get(f"/v1/services?wait={settings.max_wait_seconds}")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "index=-1",
        "index=abc",
        "index=1.5",
        "index=1&wait=0",
        "index=1&wait=abc",
        "index=1&wait=10m",
        "index=1&wait=6",
        "index=1&wait=-1s",
    ],
)
def test_rejects_malformed_watch_parameters(client, query):
    response = client.get(f"/v1/services?{query}")

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert response.get_json()["errors"][0]["field"] in ("index", "wait")


def test_a_watcher_past_the_limit_is_answered_503_at_once(settings, clock, wait_until):
    store = Store(settings.lease_ttl_seconds, limits=Limits(watchers=1), clock=clock.monotonic)
    app = create_app(settings, store=store)
    index = index_of(app.test_client().get("/v1/services"))
    path = f"/v1/services?index={index}&wait=5"
    waiting = threading.Thread(target=lambda: app.test_client().get(path))
    waiting.start()
    wait_until(lambda: store.watchers == 1)

    response = app.test_client().get(path)

    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == "2"
    store.register("catalog", Registration("catalog-1", "127.0.0.1", 5001), "shop")
    waiting.join(timeout=5)
