"""Deltas: `?since=N` answers what changed after index N, and a delta played
onto the whole list read at N gives the whole list read after it."""

from __future__ import annotations

import threading

import pytest

from registry.app import create_app
from registry.models import Registration
from registry.store import Store

OWNER = "shop"
LISTING = ("host", "port", "health_url", "metadata")  # what a change can change


def index_of(response) -> int:
    return int(response.headers["X-Registry-Index"])


def listing(services: dict) -> dict:
    """{(service, instance_id): what callers route by} of a whole list."""
    return {
        (name, i["instance_id"]): {field: i[field] for field in LISTING}
        for name, instances in services.items()
        for i in instances
    }


def played(whole: dict, changes: list[dict]) -> dict:
    """A whole list's listing with a delta's changes played onto it."""
    result = dict(whole)
    for change in changes:
        key = (change["service"], change["instance_id"])
        result.pop(key, None)
        if change["instance"] is not None:
            result[key] = {field: change["instance"][field] for field in LISTING}
    return result


def test_a_delta_played_onto_a_whole_read_gives_the_next_whole_read(client, register, auth):
    for number in range(3):
        assert register("catalog", instance_id=f"catalog-{number}").status_code == 201
    assert register("orders", instance_id="orders-0", port=5002).status_code == 201
    before = client.get("/v1/services")

    assert register("catalog", instance_id="catalog-3").status_code == 201  # joins
    assert register("catalog", instance_id="catalog-1", port=6001).status_code == 201  # moves
    left = client.delete("/v1/services/orders/instances/orders-0", headers=auth)
    assert left.status_code == 204  # the service's last instance leaves
    assert register("orders", instance_id="orders-1", port=5002).status_code == 201
    assert register("orders", instance_id="orders-1", port=5002).status_code == 201  # no change
    put = client.put("/v1/services/catalog/instances/catalog-0/heartbeat", headers=auth)
    assert put.status_code == 200  # a heartbeat is no change either
    delta = client.get(f"/v1/services?since={index_of(before)}")
    after = client.get("/v1/services")

    assert delta.status_code == 200
    assert index_of(delta) == index_of(after) == index_of(before) + 4
    body = delta.get_json()
    assert body["since"] == index_of(before)
    assert {(c["service"], c["instance_id"]) for c in body["changes"]} == {
        ("catalog", "catalog-3"),
        ("catalog", "catalog-1"),
        ("orders", "orders-0"),
        ("orders", "orders-1"),
    }
    whole_before = listing(before.get_json()["services"])
    assert played(whole_before, body["changes"]) == listing(after.get_json()["services"])


def test_a_watcher_of_changes_is_woken_with_the_change(app, client, store, register, wait_until):
    assert register("catalog", instance_id="catalog-0").status_code == 201
    index = index_of(client.get("/v1/services"))
    answers = []
    watch = f"/v1/services?since={index}&wait=5s"
    watcher = threading.Thread(target=lambda: answers.append(app.test_client().get(watch)))
    watcher.start()
    wait_until(lambda: store.watchers == 1)

    assert register("payments", instance_id="payments-0", port=5003).status_code == 201

    watcher.join(timeout=5)
    [response] = answers
    assert response.status_code == 200
    assert index_of(response) == index + 1
    [change] = response.get_json()["changes"]
    assert (change["service"], change["instance_id"]) == ("payments", "payments-0")
    assert change["instance"]["port"] == 5003


def test_a_watcher_with_nothing_changed_is_answered_no_changes_when_its_wait_ends(client):
    index = index_of(client.get("/v1/services"))

    response = client.get(f"/v1/services?since={index}&wait=0.2")

    assert response.status_code == 200
    assert index_of(response) == index
    assert response.get_json() == {"since": index, "changes": []}


def test_changes_past_what_the_registry_keeps_are_refused_with_410(settings, clock):
    store = Store(15.0, clock=clock.monotonic, wall_clock=clock.time, changes=2)
    client = create_app(settings, store=store).test_client()
    start = store.index
    for number in range(3):
        registration = Registration(instance_id=f"catalog-{number}", host="127.0.0.1", port=5001)
        store.register("catalog", registration, OWNER)

    kept = client.get(f"/v1/services?since={start + 1}")
    gone = client.get(f"/v1/services?since={start}")

    assert kept.status_code == 200
    assert [c["instance_id"] for c in kept.get_json()["changes"]] == ["catalog-1", "catalog-2"]
    assert gone.status_code == 410
    assert gone.headers["Content-Type"] == "application/problem+json"
    assert "read the whole list" in gone.get_json()["detail"]


@pytest.mark.parametrize("offset", [-1, 1])
def test_an_index_this_registry_never_had_is_refused_with_410(client, offset):
    # Before its start (another run of the registry), or after its newest change.
    index = index_of(client.get("/v1/services"))

    response = client.get(f"/v1/services?since={index + offset}")

    assert response.status_code == 410


@pytest.mark.parametrize("since", ["", "-1", "abc", "1.5"])
def test_a_since_that_is_not_an_index_is_refused_with_400(client, since):
    response = client.get(f"/v1/services?since={since}")

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "since" in response.get_data(as_text=True)


def test_an_instance_changed_twice_is_told_once_as_it_is_now(store):
    start = store.index
    for port in (5001, 6001, 7001):
        registration = Registration(instance_id="catalog-0", host="127.0.0.1", port=port)
        store.register("catalog", registration, OWNER)

    delta = store.delta(start)

    assert delta.index == start + 3
    [(service, instance_id, instance)] = delta.changes
    assert (service, instance_id, instance.port) == ("catalog", "catalog-0", 7001)
